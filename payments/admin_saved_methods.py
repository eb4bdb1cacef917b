"""The user page shows the customer's saved Stripe methods, read-only and without card data.

gamarriando owns the user admin and may not import payments, so payments extends it here.
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from gamarriando.users.admin import UserAdmin
from gamarriando.users.models import User
from payments.saved_selectors import SavedMethod, saved_methods_of


def describe_saved_method(method: SavedMethod | None) -> str:
    """One line a staff member can read: brand, last 4, expiry, wallet; never more card data."""
    if method is None:
        return "-"
    expiry = f"{method.exp_month:02d}/{method.exp_year}" if method.exp_year else "-"
    parts = [f"{method.brand or method.type} •••• {method.last4 or '?'}", f"exp {expiry}"]
    if method.wallet:
        parts.append(method.wallet)
    if method.expired:
        parts.append("expired")
    if method.is_default:
        parts.append("default")
    return ", ".join(parts)


admin.site.unregister(User)


@admin.register(User)
class UserWithSavedMethodsAdmin(UserAdmin):
    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, ("Saved payment methods (Stripe)", {"fields": ("saved_methods",)}))

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "saved_methods")

    @admin.display(description="saved methods")
    def saved_methods(self, user):
        methods = saved_methods_of(user)
        if not methods:
            return "None saved."
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((describe_saved_method(m),) for m in methods)),
        )

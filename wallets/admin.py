"""Admin of store credit: wallets with their entries and holds; figures change only by service.

Finance grants or removes credit on the back office's adjust screen (`wallets.adjust_wallet`),
linked from each wallet's page by URL name.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from gamarriando.admin import AmountsInCurrency, ReadOnlyAdmin, ReadOnlyInline
from wallets.models import Wallet, WalletEntry, WalletHold
from wallets.services import ADJUST_PERMISSION


class WalletEntryInline(AmountsInCurrency, ReadOnlyInline):
    model = WalletEntry
    currency_path = "wallet__currency"
    ordering = ["-version"]
    fields = readonly_fields = [
        "version",
        "entry_type",
        "amount",
        "balance_after",
        "held_after",
        "reason",
        "payment_id",
        "order_id",
        "actor",
        "created_at",
    ]


class WalletHoldInline(AmountsInCurrency, ReadOnlyInline):
    model = WalletHold
    currency_path = "wallet__currency"
    ordering = ["-pk"]
    fields = readonly_fields = [
        "amount",
        "deducted_amount",
        "status",
        "payment_id",
        "order_id",
        "expires_at",
        "settled_at",
        "created_at",
    ]


@admin.register(Wallet)
class WalletAdmin(AmountsInCurrency, ReadOnlyAdmin):
    extra_amounts = ("available",)
    list_display = ["pk", "user", "currency", "balance", "held", "available", "version"]
    list_filter = ["currency"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    ordering = ["-updated_at"]
    fields = readonly_fields = [
        "user",
        "currency",
        "balance",
        "held",
        "available",
        "version",
        "updated_at",
        "adjust",
    ]
    inlines = [WalletHoldInline, WalletEntryInline]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # The button leads to a screen only Finance may use: nobody else is shown it.
        return (
            fields
            if request.user.has_perm(ADJUST_PERMISSION)
            else [f for f in fields if f != "adjust"]
        )

    @admin.display(description="adjust")
    def adjust(self, wallet):
        return format_html(
            '<a class="button" id="adjust-wallet" href="{}">Grant or remove credit</a>',
            reverse("backoffice:wallet_adjust", args=[wallet.pk]),
        )


@admin.register(WalletEntry)
class WalletEntryAdmin(AmountsInCurrency, ReadOnlyAdmin):
    currency_path = "wallet__currency"
    list_display = [
        "pk",
        "wallet",
        "entry_type",
        "amount",
        "balance_after",
        "held_after",
        "reason",
        "payment_id",
        "order_id",
        "actor",
        "created_at",
    ]
    list_filter = ["entry_type", "wallet__currency"]
    search_fields = ["wallet__user__email", "reason"]
    list_select_related = ["wallet__user", "actor"]
    ordering = ["-created_at", "-pk"]  # entries of one change share created_at: newest last made


@admin.register(WalletHold)
class WalletHoldAdmin(AmountsInCurrency, ReadOnlyAdmin):
    currency_path = "wallet__currency"
    list_display = ["pk", "wallet", "amount", "status", "payment_id", "expires_at", "settled_at"]
    list_filter = ["status", "wallet__currency"]
    search_fields = ["wallet__user__email", "=payment_id", "=order_id"]
    list_select_related = ["wallet__user"]
    ordering = ["-created_at", "-pk"]

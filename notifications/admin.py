"""Admin of outgoing webhooks: subscriptions, deliveries and their attempts."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers

from gamarriando.admin import ReadOnlyAdmin, ReadOnlyInline, may_run_operations
from gamarriando.errors import PermissionDeniedError
from gamarriando.event_types import EventType
from notifications.egress import TargetRefused, target_check
from notifications.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    mask_secret,
)
from notifications.services import (
    CHANGE_SUBSCRIPTION,
    deliveries_resume,
    delivery_redeliver,
    subscription_rotate_secret,
)

SECRET_ONCE_TEMPLATE = "admin/notifications/webhooksubscription/secret_once.html"
# New secrets wait in the signed-in browser's session for their one showing.
SECRETS_SESSION_KEY = "webhook_secrets_once"


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = readonly_fields = ["attempted_at", "status_code", "latency_ms", "error"]


class WebhookSubscriptionForm(forms.ModelForm):
    """The editable fields; the secret is generated, never typed or shown in a form."""

    class Meta:
        model = WebhookSubscription
        fields = ["url", "event_types", "is_active"]

    def clean_event_types(self):
        """Accept a list of known event type names (empty: every event), nothing else."""
        chosen = self.cleaned_data["event_types"]
        if chosen in (None, ""):
            return []
        if not isinstance(chosen, list) or not all(isinstance(name, str) for name in chosen):
            raise forms.ValidationError('A list of event types, e.g. ["payment.succeeded"].')
        unknown = sorted(set(chosen) - set(EventType))
        if unknown:
            raise forms.ValidationError(
                f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(EventType)}."
            )
        return chosen

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            target_check(url)
        except TargetRefused as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["url", "is_active", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url"]
    fields = [
        "url",
        "event_types",
        "is_active",
        "signing_secret",
        "previous_secret_expires_at",
        "consecutive_failures",
        "failing_since",
        "disabled_at",
        "created_at",
    ]
    readonly_fields = [
        "signing_secret",
        "previous_secret_expires_at",
        "consecutive_failures",
        "failing_since",
        "disabled_at",
        "created_at",
    ]
    actions = ["rotate_secret"]

    @admin.display(description="signing secret")
    def signing_secret(self, obj):
        if obj is None or obj.pk is None:
            return "Generated when you save, and shown once."
        return mask_secret(obj.secret)

    def save_model(self, request, obj, form, change):
        switched_on = change and "is_active" in form.changed_data and obj.is_active
        if switched_on:
            # A fresh start, or the next single failure would switch it off again.
            obj.consecutive_failures, obj.failing_since, obj.disabled_at = 0, None, None
        super().save_model(request, obj, form, change)
        if switched_on:
            waiting = deliveries_resume(subscription_id=obj.pk)
            if waiting:
                self.message_user(request, f"{waiting} pending event(s) are sent within a minute.")

    def response_add(self, request, obj, post_url_continue=None):
        return self._secrets_once(request, [(obj, obj.secret)], rotated=False)

    def has_rotate_secret_permission(self, request):
        return request.user.has_perm(CHANGE_SUBSCRIPTION)

    @admin.action(
        description="Rotate the signing secret (the old one stays valid for 24 hours)",
        permissions=["rotate_secret"],
    )
    def rotate_secret(self, request, queryset):
        rotated = []
        try:
            for subscription in queryset.order_by("pk"):
                secret = subscription_rotate_secret(
                    subscription_id=subscription.pk, actor=request.user
                )
                rotated.append((subscription, secret))
        except PermissionDeniedError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        return self._secrets_once(request, rotated, rotated=True)

    def _secrets_once(self, request, secrets, *, rotated: bool):
        """Keep new secrets for one showing and send the browser to it (post, redirect, get).

        The page itself is a GET: reloading it, or going back to it, shows nothing again and
        repeats nothing (the POST's own reply would be posted again: a second subscription,
        or a second rotation that drops the secret the subscriber still uses).
        """
        request.session[SECRETS_SESSION_KEY] = {
            "secrets": [[subscription.pk, secret] for subscription, secret in secrets],
            "rotated": rotated,
        }
        opts = self.model._meta
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_secret_once")

    def get_urls(self):
        opts = self.model._meta
        own = [
            path(
                "secret-once/",
                self.admin_site.admin_view(self.secret_once_view),
                name=f"{opts.app_label}_{opts.model_name}_secret_once",
            )
        ]
        return own + super().get_urls()

    def secret_once_view(self, request):
        """Show the secrets kept for this browser once; afterwards they are gone from it."""
        opts = self.model._meta
        changelist_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        kept = request.session.pop(SECRETS_SESSION_KEY, None)
        if not kept:
            self.message_user(
                request,
                "A new secret is shown once only; a lost one is replaced with the rotate action.",
                messages.WARNING,
            )
            return redirect(changelist_url)
        by_pk = WebhookSubscription.objects.in_bulk([pk for pk, _ in kept["secrets"]])
        secrets = [(by_pk[pk], secret) for pk, secret in kept["secrets"] if pk in by_pk]
        context = {
            **self.admin_site.each_context(request),
            "opts": opts,
            "title": "New signing secret" if len(secrets) == 1 else "New signing secrets",
            "secrets": secrets,
            "rotated": kept["rotated"],
            "changelist_url": changelist_url,
        }
        response = TemplateResponse(request, SECRET_ONCE_TEMPLATE, context)
        add_never_cache_headers(response)
        return response


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "subscription",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    ]
    list_filter = ["status", "subscription"]
    search_fields = ["=event__id", "subscription__url"]
    list_select_related = ["event", "subscription"]
    date_hierarchy = "created_at"
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_redeliver_permission(self, request):
        return may_run_operations(request)

    @admin.action(description="Redeliver the selected events now", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        deliveries = list(queryset.order_by("pk"))
        try:
            queued = [delivery_redeliver(delivery, actor=request.user) for delivery in deliveries]
        except PermissionDeniedError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Redelivering {len(deliveries)} event(s).")
        held = sum(not delivery.subscription.is_active for delivery in deliveries)
        if held:
            self.message_user(
                request,
                f"{held} belong to a switched-off endpoint: they are sent once it is back on.",
                messages.WARNING,
            )
        if not all(queued):
            self.message_user(
                request,
                f"The task queue cannot be reached: {queued.count(False)} will be sent by the "
                "retry sweep once it is back.",
                messages.WARNING,
            )

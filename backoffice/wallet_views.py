"""Finance's store-credit screens: grant credit to a customer, adjust a wallet, with a reason."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from backoffice.forms import OperationForm
from backoffice.nonces import FormAlreadySubmitted, nonce_claim
from backoffice.views import ALREADY_SUBMITTED, error_details
from gamarriando import money
from gamarriando.errors import ApplicationError
from wallets.models import Wallet
from wallets.selectors import active_account_by_email
from wallets.services import ADJUST_PERMISSION, check_adjustment, wallet_adjust, wallet_grant


class WalletAdjustForm(OperationForm):
    direction = forms.ChoiceField(choices=[("grant", "Grant credit"), ("remove", "Remove credit")])
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=money.Decimal("0.01"), max_value=money.MAX_AMOUNT
    )
    reason = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"size": 60}))


def wallet_adjust_view(request, wallet_id: int):
    """Show the wallet's figures, ask for an amount and a reason, confirm, and adjust once."""
    if not request.user.has_perm(ADJUST_PERMISSION):
        raise PermissionDenied
    wallet = get_object_or_404(Wallet.objects.select_related("user"), pk=wallet_id)
    change_url = reverse("admin:wallets_wallet_change", args=[wallet.pk])
    form = WalletAdjustForm(
        request.POST or None, initial={"nonce": uuid.uuid4()}, currency=wallet.currency
    )
    confirming = False
    if request.method == "POST" and form.is_valid() and not form.cleaned_data.get("confirm"):
        confirming = True  # say once more what will happen, with the same values
        form = WalletAdjustForm(
            initial={**form.cleaned_data, "confirm": True}, currency=wallet.currency
        )
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        amount = data["amount"] if data["direction"] == "grant" else -data["amount"]
        try:
            with transaction.atomic():  # a refused adjustment frees the nonce for a retry
                nonce_claim(
                    nonce=data["nonce"],
                    operation="wallet_adjust",
                    object_id=wallet.pk,
                    user=request.user,
                )
                entry = wallet_adjust(
                    wallet_id=wallet.pk, amount=amount, reason=data["reason"], actor=request.user
                )
        except FormAlreadySubmitted:
            messages.warning(request, ALREADY_SUBMITTED)
            return redirect(change_url)
        except ApplicationError as exc:
            messages.error(request, f"{exc.message} {error_details(exc, wallet.currency)}".strip())
            form = WalletAdjustForm(initial={**data, "confirm": False}, currency=wallet.currency)
        else:
            amount, balance = (
                money.with_currency(value, wallet.currency)
                for value in (entry.amount, entry.balance_after)
            )
            messages.success(
                request, f"{entry.entry_type.capitalize()} of {amount}: balance now {balance}."
            )
            return redirect(change_url)
    context = {
        **admin.site.each_context(request),
        "title": f"Adjust store credit of {wallet.user.email} ({wallet.currency})",
        "wallet": wallet,
        "form": form,
        "confirming": confirming,
        "change_url": change_url,
        "opts": Wallet._meta,
    }
    return TemplateResponse(request, "admin/backoffice/wallet_adjust.html", context)


class WalletGrantForm(OperationForm):
    email = forms.EmailField(label="Customer's e-mail")
    currency = forms.ChoiceField(
        choices=[(code, code) for code in money.CURRENCY_EXPONENTS], initial=money.DEFAULT_CURRENCY
    )
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=money.Decimal("0.01"), max_value=money.MAX_AMOUNT
    )
    reason = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="The customer sees it on their wallet's entries.",
    )

    def __init__(self, data=None, *, actor, **kwargs):
        # The amount's decimals and floor are the chosen currency's, checked on the first step.
        currency = (data or {}).get("currency")
        super().__init__(
            data, currency=currency if currency in money.CURRENCY_EXPONENTS else "", **kwargs
        )
        self.actor = actor

    def clean(self):
        data = super().clean()
        if "email" in data:
            # Kept beside the form's values, not among them: those go back as hidden fields.
            self.customer = active_account_by_email(data["email"])
            if self.customer is None:
                self.add_error("email", "No active account has this e-mail.")
            elif not self.errors:
                # The service's own rules (a staff account, one's own wallet), before the clerk
                # confirms a grant it would refuse.
                try:
                    check_adjustment(
                        actor=self.actor,
                        owner=self.customer,
                        reason=data["reason"],
                        amount=data["amount"],
                        currency=data["currency"],
                    )
                except ApplicationError as exc:
                    for field, messages_ in (exc.details or {"__all__": [exc.message]}).items():
                        self.add_error(field if field in self.fields else None, messages_)
        return data


def wallet_grant_view(request):
    """Grant store credit to a customer by e-mail and currency, confirmed, once."""
    if not request.user.has_perm(ADJUST_PERMISSION):
        raise PermissionDenied
    changelist = reverse("admin:wallets_wallet_changelist")
    form = WalletGrantForm(
        request.POST or None, actor=request.user, initial={"nonce": uuid.uuid4()}
    )
    confirming = False
    if request.method == "POST" and form.is_valid() and not form.cleaned_data.get("confirm"):
        confirming = True  # say once more what will happen, with the same values
        form = WalletGrantForm(actor=request.user, initial={**form.cleaned_data, "confirm": True})
    elif request.method == "POST" and form.is_valid():
        data, customer = form.cleaned_data, form.customer
        try:
            with transaction.atomic():  # a refused grant frees the nonce for a retry
                nonce_claim(
                    nonce=data["nonce"],
                    operation="wallet_grant",
                    object_id=customer.pk,
                    user=request.user,
                )
                entry = wallet_grant(
                    user=customer,
                    currency=data["currency"],
                    amount=data["amount"],
                    reason=data["reason"],
                    actor=request.user,
                )
        except FormAlreadySubmitted:
            messages.warning(request, ALREADY_SUBMITTED)
            return redirect(changelist)
        except ApplicationError as exc:
            details = error_details(exc, data["currency"])
            messages.error(request, f"{exc.message} {details}".strip())
            form = WalletGrantForm(actor=request.user, initial={**data, "confirm": False})
        else:
            granted, balance = (
                money.with_currency(value, data["currency"])
                for value in (entry.amount, entry.balance_after)
            )
            messages.success(
                request, f"Granted {granted} to {customer.email}: balance now {balance}."
            )
            return redirect(reverse("admin:wallets_wallet_change", args=[entry.wallet_id]))
    context = {
        **admin.site.each_context(request),
        "title": "Grant store credit to a customer",
        "form": form,
        "confirming": confirming,
        "changelist": changelist,
        "opts": Wallet._meta,
    }
    return TemplateResponse(request, "admin/backoffice/wallet_grant.html", context)

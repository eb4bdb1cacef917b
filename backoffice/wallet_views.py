"""Finance's store-credit screens: open a customer's wallet, grant or remove credit with a reason."""

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
from backoffice.views import error_details
from gamarriando import money
from gamarriando.errors import ApplicationError
from gamarriando.users.models import User
from wallets.models import Wallet
from wallets.services import ADJUST_PERMISSION, wallet_adjust, wallet_get_or_create

ALREADY_SUBMITTED = "This form was already submitted; nothing more was done."


class WalletAdjustForm(OperationForm):
    direction = forms.ChoiceField(choices=[("grant", "Grant credit"), ("remove", "Remove credit")])
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=money.Decimal("0.01"), max_value=money.MAX_AMOUNT
    )
    reason = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"size": 60}))


def wallet_adjust_view(request, wallet_id: int):
    """Show the wallet's figures, ask for an amount and a reason, and adjust once."""
    if not request.user.has_perm(ADJUST_PERMISSION):
        raise PermissionDenied
    wallet = get_object_or_404(Wallet.objects.select_related("user"), pk=wallet_id)
    change_url = reverse("admin:wallets_wallet_change", args=[wallet.pk])
    form = WalletAdjustForm(
        request.POST or None, initial={"nonce": uuid.uuid4()}, currency=wallet.currency
    )
    if request.method == "POST" and form.is_valid():
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
        "change_url": change_url,
        "opts": Wallet._meta,
    }
    return TemplateResponse(request, "admin/backoffice/wallet_adjust.html", context)


class CustomerWalletForm(forms.Form):
    email = forms.EmailField(label="Customer's e-mail")
    currency = forms.ChoiceField(
        choices=[(code, code) for code in money.CURRENCY_EXPONENTS], initial=money.DEFAULT_CURRENCY
    )

    def clean_email(self):
        user = User.objects.filter(email__iexact=self.cleaned_data["email"], is_active=True).first()
        if user is None:
            raise forms.ValidationError("No active account has this e-mail.")
        return user


def wallet_open_view(request):
    """Find a customer's wallet in a currency (made empty if it has none) to grant credit to."""
    if not request.user.has_perm(ADJUST_PERMISSION):
        raise PermissionDenied
    form = CustomerWalletForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # An empty wallet moves no money: the grant itself is the adjust screen's, with its reason.
        wallet = wallet_get_or_create(
            user=form.cleaned_data["email"], currency=form.cleaned_data["currency"]
        )
        return redirect(reverse("backoffice:wallet_adjust", args=[wallet.pk]))
    context = {
        **admin.site.each_context(request),
        "title": "Grant store credit to a customer",
        "form": form,
        "opts": Wallet._meta,
    }
    return TemplateResponse(request, "admin/backoffice/wallet_open.html", context)

"""Forms of the money screens; each carries a one-time nonce against double submission."""

from django import forms
from django.core.validators import MinValueValidator

from gamarriando import money


class OperationForm(forms.Form):
    """Base: a hidden nonce, a confirm flag for the confirmation step, the amount's currency."""

    nonce = forms.UUIDField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, currency: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        if currency and "amount" in self.fields:
            # The browser's arrows and its own check step by the currency's smallest unit.
            smallest = money.minor_unit(currency)
            field = self.fields["amount"]
            field.widget.attrs.update(step=str(smallest), min=str(smallest))
            # The field's own floor is 0.01 whatever the currency: name the currency's instead.
            field.validators = [
                v for v in field.validators if not isinstance(v, MinValueValidator)
            ] + [
                MinValueValidator(
                    smallest,
                    message=f"Enter at least {money.with_currency(smallest, currency)}.",
                )
            ]

    def clean_amount(self):
        """Refuse, on the first step already, more decimals than the currency has (JPY none)."""
        amount = self.cleaned_data.get("amount")
        if amount is None or not self.currency:
            return amount
        try:
            return money.check_scale(amount, self.currency)
        except money.MoneyError as exc:
            raise forms.ValidationError(str(exc)) from exc


class AmountField(forms.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(
            max_digits=12,
            decimal_places=2,
            min_value=money.Decimal("0.01"),
            max_value=money.MAX_AMOUNT,
            **kwargs,
        )


class RefundForm(OperationForm):
    amount = AmountField(
        required=False,
        help_text="Filled in with everything still refundable: lower it to refund part.",
    )
    reason = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"size": 60}))
    destination = forms.ChoiceField(
        choices=[("original", "The original payment method"), ("wallet", "Store credit")],
        initial="original",
        required=False,  # older clients post no destination: the original method
        help_text="Store credit settles at once, in the customer's wallet.",
    )


class CaptureForm(OperationForm):
    amount = AmountField(help_text="Capturing less releases the rest of the hold.")


class VoidForm(OperationForm):
    reason = forms.CharField(
        max_length=255, required=False, widget=forms.TextInput(attrs={"size": 60})
    )


class CancelOrderForm(OperationForm):
    reason = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"size": 60}))

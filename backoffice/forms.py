"""Forms of the money screens; each carries a one-time nonce against double submission."""

from django import forms

from gamarriando import money


class OperationForm(forms.Form):
    """Base: a hidden nonce, and a confirm flag set on the confirmation step."""

    nonce = forms.UUIDField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


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
    amount = AmountField(help_text="Defaults to everything still refundable.")
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

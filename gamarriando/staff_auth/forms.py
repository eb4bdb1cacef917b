"""The admin's sign-in form with a TOTP code, and the enrollment form."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed

from gamarriando.staff_auth.devices import totp_token_check
from gamarriando.staff_auth.rules import confirmed_device, second_factor_required

CODE_WIDGET = forms.TextInput(
    attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
)


class StaffLoginForm(AdminAuthenticationForm):
    """Email, password and, for staff who need one, the code of their authenticator app."""

    # One answer for a wrong password, a wrong code and a missing code, so that the form
    # does not tell a guesser that the password was right.
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the correct email and password for a staff account, and the "
            "two-factor code if your account has one. The password is case-sensitive."
        ),
    }

    otp_token = forms.CharField(
        label="Two-factor code",
        required=False,
        max_length=16,
        widget=CODE_WIDGET,
        help_text="The 6-digit code of your authenticator app, if you have set one up.",
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and second_factor_required(user):
            device = confirmed_device(user)
            # Required with no device yet: the password signs in and the admin sends the
            # user to enroll one; nothing else of the admin opens before that.
            if device is not None:
                self._check_code(user, device, cleaned.get("otp_token") or "")
        return cleaned

    def _check_code(self, user, device, token: str) -> None:
        if token and totp_token_check(user=user, device=device, token=token):
            # django-otp marks the session verified when login() sees this attribute.
            user.otp_device = device
            return
        # A wrong or missing code counts towards the lockout like a wrong password.
        user_login_failed.send(
            sender=__name__,
            credentials={"username": self.cleaned_data.get("username")},
            request=self.request,
        )
        self.user_cache = None
        raise self.get_invalid_login_error()


class TotpConfirmForm(forms.Form):
    """The first code of a new authenticator app."""

    otp_token = forms.CharField(label="Code", max_length=16, widget=CODE_WIDGET)

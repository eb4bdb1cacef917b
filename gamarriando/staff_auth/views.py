"""Set up two-factor sign-in: a staff member enrolls their own authenticator app."""

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import login as otp_login

from gamarriando.staff_auth.devices import (
    totp_device_confirm,
    totp_device_start,
    totp_qr_svg,
    totp_secret_text,
)
from gamarriando.staff_auth.forms import TotpConfirmForm
from gamarriando.staff_auth.rules import confirmed_device, is_verified


@never_cache
@csrf_protect
@staff_member_required
def two_factor_setup(request, site):
    """Show a new device's QR code; its first correct code confirms it and verifies the session."""
    user = request.user
    # With a device already, only a session signed in with it may replace it: a password
    # alone must not be enough to add a second factor of one's own.
    if confirmed_device(user) is not None and not is_verified(user):
        return redirect("admin:login")
    form = TotpConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = totp_device_confirm(user=user, token=form.cleaned_data["otp_token"])
        if device is not None:
            otp_login(request, device)
            return redirect("admin:index")
        form.add_error("otp_token", "That code is not right; enter the current one.")
    device = totp_device_start(user=user)
    context = {
        **site.each_context(request),
        "title": "Set up two-factor sign-in",
        "form": form,
        "qr_svg": totp_qr_svg(device),
        "secret": totp_secret_text(device),
    }
    return TemplateResponse(request, "admin/two_factor_setup.html", context)

"""Enroll a staff member's TOTP device and check its codes."""

from base64 import b32encode

import django_otp
import qrcode
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from qrcode.image.svg import SvgPathImage

from gamarriando.logging import get_logger

log = get_logger(__name__)

DEVICE_NAME = "Authenticator app"


def totp_device_start(*, user) -> TOTPDevice:
    """The user's unconfirmed device, created on first use so that a reload shows the same QR."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        log.info("totp_device_started", user_id=user.pk, device_id=device.pk)
    return device


@transaction.atomic
def totp_device_confirm(*, user, token: str) -> TOTPDevice | None:
    """Confirm the user's pending device with its first code; it replaces any older device."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("-pk")
        .first()
    )
    if device is None or not device.verify_token(token):
        log.info("totp_device_confirm_refused", user_id=user.pk)
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    log.info("totp_device_confirmed", user_id=user.pk, device_id=device.pk)
    return device


def totp_token_check(*, user, device: TOTPDevice, token: str) -> bool:
    """Check a sign-in code under the device's row lock (a code is accepted once; throttled)."""
    return django_otp.verify_token(user, device.persistent_id, token) is not None


def totp_qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an inline SVG QR code (drawn here, no CDN)."""
    image = qrcode.make(device.config_url, image_factory=SvgPathImage)
    return image.to_string(encoding="unicode")


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for apps that cannot scan."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))

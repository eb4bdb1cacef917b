"""Who must sign in to the admin with a second factor."""

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from gamarriando.users.groups import GROUP_PERMISSIONS

# Finance's permissions are the ones that move money: refund, capture, offline ledger rows,
# cancel an order (its money goes back) and operations work. Held directly or by group.
MONEY_PERMISSIONS = tuple(GROUP_PERMISSIONS["Finance"])


def moves_money(user) -> bool:
    """True for superusers and for anyone holding any of Finance's permissions."""
    return user.is_superuser or any(user.has_perm(name) for name in MONEY_PERMISSIONS)


def confirmed_device(user) -> TOTPDevice | None:
    """The user's confirmed TOTP device, the newest if there are several."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def is_verified(user) -> bool:
    """True when this session was signed in with a second factor (django-otp's middleware)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def second_factor_required(user) -> bool:
    """Whoever moves money when OTP_REQUIRED_FOR_MONEY_STAFF is on; anyone who enrolled a device."""
    # Not only staff: the API's money checks ask for the permission, never for is_staff, so a
    # superuser or a Finance member without the staff flag moves money there all the same.
    if not (user.is_authenticated and user.is_active):
        return False
    if settings.OTP_REQUIRED_FOR_MONEY_STAFF and moves_money(user):
        return True
    return confirmed_device(user) is not None


def second_factor_satisfied(user) -> bool:
    """True when the signed-in user may use the admin as far as the second factor goes."""
    return is_verified(user) or not second_factor_required(user)


def enrollment_due(user) -> bool:
    """Signed in by password, required to use a second factor, and with no device yet."""
    return (
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and not is_verified(user)
        and settings.OTP_REQUIRED_FOR_MONEY_STAFF
        and moves_money(user)
        and confirmed_device(user) is None
    )

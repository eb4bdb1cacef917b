"""Production turns on what local leaves off: https-only webhooks and staff two-factor sign-in."""

from tests.test_settings import PRODUCTION, run_python


def test_production_requires_https_webhooks_and_staff_two_factor():
    code = (
        "from django.conf import settings as s; "
        "print(s.WEBHOOK_REQUIRE_HTTPS, s.WEBHOOK_ALLOW_LOOPBACK_TARGETS, "
        "s.OTP_REQUIRED_FOR_MONEY_STAFF)"
    )
    result = run_python(["-c", f"import django; django.setup(); {code}"], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "True"]

"""/auth/token asks money staff for the same TOTP code as the admin (issue 18, item 19)."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from gamarriando.staff_auth.rules import MONEY_PERMISSIONS

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-Passw0rd!"  # tests/factories.py


@pytest.fixture(autouse=True)
def otp_required(settings):
    settings.OTP_REQUIRED_FOR_MONEY_STAFF = True


def token(user, **extra):
    body = {"email": user.email, "password": PASSWORD, **extra}
    return APIClient().post("/api/v1/auth/token", body, format="json")


def code_for(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}"


def refused(response):
    assert response.status_code == 401, response.json()
    assert "access" not in response.json()
    return response.json()["error"]["message"]


def test_money_staff_without_a_device_get_no_token(finance):
    assert "enroll" in refused(token(finance))


def test_money_staff_need_a_current_code(finance):
    device = TOTPDevice.objects.create(user=finance, name="phone", confirmed=True)
    assert "otp_code" in refused(token(finance))
    assert "otp_code" in refused(
        token(finance, otp_code="000000" if code_for(device) != "000000" else "111111")
    )
    # django-otp throttles a device for a second after a failed code: a guesser is slowed.
    refused(token(finance, otp_code=code_for(device)))
    device.refresh_from_db()
    device.throttle_reset()
    response = token(finance, otp_code=code_for(device))
    assert response.status_code == 200, response.json()
    assert response.json()["access"]


def test_a_code_is_accepted_once(finance):
    device = TOTPDevice.objects.create(user=finance, name="phone", confirmed=True)
    code = code_for(device)
    assert token(finance, otp_code=code).status_code == 200
    refused(token(finance, otp_code=code))


def test_a_wrong_password_is_refused_before_the_code_is_read(finance):
    device = TOTPDevice.objects.create(user=finance, name="phone", confirmed=True)
    body = {"email": finance.email, "password": "wrong", "otp_code": code_for(device)}
    assert APIClient().post("/api/v1/auth/token", body, format="json").status_code == 401
    # The code was not spent on the failed attempt.
    assert token(finance, otp_code=code_for(device)).status_code == 200


def test_customers_and_view_only_staff_sign_in_with_a_password(customer, support):
    assert not any(support.has_perm(name) for name in MONEY_PERMISSIONS)
    for user in (customer, support):
        assert token(user).status_code == 200


def test_without_the_requirement_money_staff_sign_in_with_a_password(finance, settings):
    settings.OTP_REQUIRED_FOR_MONEY_STAFF = False  # local demo logins
    assert token(finance).status_code == 200

"""Staff sign-in with a TOTP code (django-otp) for money staff, and enrolling a device."""

import pytest
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.tests.helpers import LOGIN, sign_in, signed_in_to_admin
from gamarriando.staff_auth.devices import totp_token_check
from tests.factories import UserFactory
from tests.threads import run_concurrently

SETUP = "/admin/two-factor/setup/"

pytestmark = pytest.mark.django_db


def code_for(device, offset=0):
    """The device's current code (or the one ``offset`` steps away), as an app computes it."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0 - offset * device.step):06d}"


def enrolled(user):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_when_optional_the_demo_logins_sign_in_with_a_password(client, finance, settings):
    assert settings.OTP_REQUIRED_FOR_MONEY_STAFF is False

    assert sign_in(client, finance.email).status_code == 302
    assert signed_in_to_admin(client)


@pytest.fixture
def required(settings):
    settings.OTP_REQUIRED_FOR_MONEY_STAFF = True


@pytest.mark.django_db(transaction=True)
def test_finance_without_a_device_reaches_no_admin_page(client, finance, paid, required):
    _, payment = paid

    answer = sign_in(client, finance.email)

    assert answer.status_code == 302 and answer["Location"] == SETUP
    for address in (
        "/admin/",
        f"/admin/payments/payment/{payment.pk}/change/",
        f"/admin/payments/payment/{payment.pk}/refund/",
        "/admin/payments/payment/dashboard/",
    ):
        page = client.get(address)
        assert page.status_code == 302 and page["Location"].startswith(LOGIN), address
    assert client.get(LOGIN)["Location"] == SETUP


@pytest.mark.django_db(transaction=True)
def test_finance_signs_in_with_a_correct_code(client, finance, paid, required):
    device = enrolled(finance)
    _, payment = paid

    answer = sign_in(client, finance.email, code=code_for(device))

    assert answer.status_code == 302 and answer["Location"] == "/admin/"
    assert signed_in_to_admin(client)
    assert client.get(f"/admin/payments/payment/{payment.pk}/refund/").status_code == 200
    assert client.get("/admin/payments/payment/dashboard/").status_code == 200


@pytest.mark.parametrize("code", ["", "000000", "not-a-code", "9" * 16])
def test_a_wrong_or_missing_code_fails(client, finance, required, code):
    device = enrolled(finance)
    if code == "000000" and code_for(device) == code:
        code = "000001"

    answer = sign_in(client, finance.email, code=code)

    assert answer.status_code == 200
    assert "two-factor code" in answer.context["form"].non_field_errors()[0]
    assert not signed_in_to_admin(client)


def test_the_error_does_not_tell_that_the_password_was_right(client, finance, required):
    enrolled(finance)

    wrong_password = sign_in(client, finance.email, password="guess", code="123456")
    wrong_code = sign_in(client, finance.email, code="123456")

    assert (
        wrong_password.context["form"].non_field_errors()
        == wrong_code.context["form"].non_field_errors()
    )


@override_settings(AXES_FAILURE_LIMIT=3)
def test_wrong_codes_count_towards_the_lockout(client, finance, required):
    device = enrolled(finance)
    for _ in range(3):
        sign_in(client, finance.email, code="12345")

    locked = sign_in(client, finance.email, code=code_for(device))

    assert locked.status_code == 429
    assert not signed_in_to_admin(client)


def test_a_superuser_needs_a_code_too(client, required):
    root = UserFactory(email="root@gamarriando.pe", is_staff=True, is_superuser=True)
    device = enrolled(root)

    assert sign_in(client, root.email).status_code == 200
    assert sign_in(client, root.email, code=code_for(device)).status_code == 302
    assert signed_in_to_admin(client)


def test_support_views_without_a_second_factor(client, support, required):
    assert sign_in(client, support.email).status_code == 302
    assert signed_in_to_admin(client)


def test_a_password_only_session_of_an_enrolled_user_is_not_enough(client, finance, required):
    enrolled(finance)
    client.force_login(finance)

    assert not signed_in_to_admin(client)
    # Nor may it swap in a device of its own.
    assert client.get(SETUP)["Location"] == LOGIN
    assert TOTPDevice.objects.filter(user=finance).count() == 1


def test_finance_enrolls_a_device_from_the_admin(client, finance, required):
    sign_in(client, finance.email)

    page = client.get(SETUP)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'id="two-factor-secret"' in html
    assert "http://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", ""
    )
    device = TOTPDevice.objects.get(user=finance)
    assert device.confirmed is False
    assert client.get(SETUP).context["secret"] == page.context["secret"]  # same QR on reload

    refused = client.post(SETUP, {"otp_token": "12345"})
    assert refused.status_code == 200 and refused.context["form"].errors
    device.refresh_from_db()
    assert device.confirmed is False and not signed_in_to_admin(client)

    device.throttle_reset()
    confirmed = client.post(SETUP, {"otp_token": code_for(device)})

    assert confirmed.status_code == 302 and confirmed["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert signed_in_to_admin(client)
    # Next time the code is asked for.
    client.post("/admin/logout/")
    assert sign_in(client, finance.email).status_code == 200
    device.throttle_reset()
    assert sign_in(client, finance.email, code=code_for(device, offset=1)).status_code == 302


def test_the_admin_hides_device_secrets(client, required):
    root = UserFactory(email="root@gamarriando.pe", is_staff=True, is_superuser=True)
    device = enrolled(root)
    sign_in(client, root.email, code=code_for(device))

    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")

    assert page.status_code == 200
    assert device.key not in page.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_code_signs_in_once_even_at_the_same_moment(finance):
    device = enrolled(finance)
    code = code_for(device)
    accepted = run_concurrently(
        4, lambda _: totp_token_check(user=finance, device=device, token=code)
    )

    assert sorted(accepted) == [False, False, False, True]

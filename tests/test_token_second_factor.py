"""/auth/token asks money staff for the same TOTP code as the admin (issue 18, item 19)."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from gamarriando.staff_auth.rules import MONEY_PERMISSIONS
from tests.factories import UserFactory
from tests.helpers import make_paid
from transactions.models import Transaction

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-Passw0rd!"  # tests/factories.py
ONE_ANSWER = (
    "No active account found with the given credentials, or a one-time code (otp_code) is required."
)


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
    assert refused(token(finance)) == ONE_ANSWER


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


def test_a_guesser_cannot_tell_a_right_password_from_a_wrong_one(finance):
    # Wrong password, right password without a device, without a code, with a wrong code: one
    # answer, as the admin's sign-in form gives (QA finding 5).
    wrong_password = APIClient().post(
        "/api/v1/auth/token", {"email": finance.email, "password": "wrong"}, format="json"
    )
    no_device = token(finance)
    device = TOTPDevice.objects.create(user=finance, name="phone", confirmed=True)
    no_code = token(finance)
    device.refresh_from_db()
    device.throttle_reset()
    wrong_code = token(finance, otp_code="000000" if code_for(device) != "000000" else "111111")
    unknown = APIClient().post(
        "/api/v1/auth/token", {"email": "nobody@example.com", "password": "x"}, format="json"
    )
    answers = [wrong_password, no_device, no_code, wrong_code, unknown]
    assert {r.status_code for r in answers} == {401}
    errors = [{k: v for k, v in r.json()["error"].items() if k != "request_id"} for r in answers]
    assert errors == [{"code": "NOT_AUTHENTICATED", "message": ONE_ANSWER, "details": {}}] * 5


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


# A token outlives the rules it was issued under (QA finding 1): a Support clerk signed in with
# a password and moved to Finance afterwards must not keep moving money on that sign-in.


def refresh(refresh_token):
    body = {"refresh": refresh_token}
    return APIClient().post("/api/v1/auth/token/refresh", body, format="json")


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refused_for_the_code(response):
    assert response.status_code == 401, response.json()
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"
    assert "access" not in response.json()
    return response


def test_a_refresh_token_from_before_a_move_to_finance_is_refused(support, staff_groups):
    pair = token(support).json()  # view only: the password is the whole sign-in
    support.groups.add(staff_groups["Finance"])
    refused(token(support))  # the sign-in asks for the code now...
    refused_for_the_code(refresh(pair["refresh"]))  # ...and so does the refresh
    TOTPDevice.objects.create(user=support, name="phone", confirmed=True)
    refused_for_the_code(refresh(pair["refresh"]))  # a device alone is not a verified code


MONEY_MOVES = {
    "offline_record": lambda client, order, payment: client.post(
        "/api/v1/transactions",
        {"payment_id": payment.pk, "transaction_type": "refund", "amount": "50.00", "reason": "x"},
        format="json",
    ),
    "refund": lambda client, order, payment: client.post(
        f"/api/v1/payments/{payment.pk}/refund", {"reason": "x"}, format="json"
    ),
    "cancel_order": lambda client, order, payment: client.delete(f"/api/v1/orders/{order.pk}"),
    "move_order": lambda client, order, payment: client.patch(
        f"/api/v1/orders/{order.pk}", {"status": "processing"}, format="json"
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("move", MONEY_MOVES)
def test_an_access_token_from_before_a_move_to_finance_moves_no_money(
    support, staff_groups, customer, product, move
):
    order, payment = make_paid(customer, product)
    access = token(support).json()["access"]
    support.groups.add(staff_groups["Finance"])
    client = bearer(access)
    response = refused_for_the_code(MONEY_MOVES[move](client, order, payment))
    assert "insufficient_user_authentication" in response["WWW-Authenticate"]
    assert client.get(f"/api/v1/payments/{payment.pk}").status_code == 200  # reading is fine
    assert not Transaction.objects.filter(transaction_type="refund").exists()
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.mark.django_db(transaction=True)
def test_a_sign_in_with_the_code_keeps_it_through_refresh_and_rotation(finance, customer, product):
    _, payment = make_paid(customer, product)
    device = TOTPDevice.objects.create(user=finance, name="phone", confirmed=True)
    first = token(finance, otp_code=code_for(device)).json()
    second = refresh(first["refresh"])
    assert second.status_code == 200, second.json()
    third = refresh(second.json()["refresh"])
    assert third.status_code == 200, third.json()
    body = {
        "payment_id": payment.pk,
        "transaction_type": "refund",
        "amount": "10.00",
        "reason": "refunded in the dashboard",
    }
    recorded = bearer(third.json()["access"]).post("/api/v1/transactions", body, format="json")
    assert recorded.status_code == 201, recorded.json()


def test_who_needs_no_code_refreshes_as_before(customer, support):
    for user in (customer, support):
        assert refresh(token(user).json()["refresh"]).status_code == 200


# Money powers, not the staff flag, ask for the code (QA finding 3): a superuser without
# is_staff and a customer account put in Finance both reach the money endpoints.


@pytest.fixture
def non_staff_money_holders(staff_groups):
    superuser = UserFactory(email="root@example.com", is_superuser=True, is_staff=False)
    holder = UserFactory(email="holder@example.com", is_staff=False)
    holder.groups.add(staff_groups["Finance"])
    return superuser, holder


def test_non_staff_holders_of_money_permissions_need_a_code(non_staff_money_holders):
    for user in non_staff_money_holders:
        refused(token(user))  # no device: no token at all
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        refused(token(user))
        response = token(user, otp_code=code_for(device))
        assert response.status_code == 200, response.json()


def test_non_staff_money_holders_refresh_no_sign_in_without_the_code(
    non_staff_money_holders, settings
):
    settings.OTP_REQUIRED_FOR_MONEY_STAFF = False  # signed in while the code was optional
    pairs = [token(user).json() for user in non_staff_money_holders]
    settings.OTP_REQUIRED_FOR_MONEY_STAFF = True
    for pair in pairs:
        refused_for_the_code(refresh(pair["refresh"]))

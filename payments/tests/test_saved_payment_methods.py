"""Saved Stripe payment methods end to end: the real SDK and dj-stripe against the fake Stripe."""

import copy
import json
import threading
from decimal import Decimal

import pytest
from django.db import connection
from djstripe.models import Customer
from djstripe.models import PaymentMethod as MirroredPaymentMethod

from gamarriando import idempotency
from orders.tests.factories import ProductFactory
from payments.gateways.registry import get_gateway
from payments.models import Payment
from payments.stripe.gateway import result_from_payment_intent, wallet_of
from tests.fake_stripe import sign
from tests.helpers import make_order, make_payment

pytestmark = pytest.mark.django_db(transaction=True)
SAVED = "/api/v1/payment-methods/saved"


def post_event(client, fake, event_type, obj):
    """Deliver a signed Stripe event to our webhook, as Stripe would."""
    body = json.dumps(fake.event(event_type, obj))
    response = client.post(
        "/webhooks/stripe",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, "whsec_test_secret"),
    )
    assert response.status_code == 200, response.content


def save_card(api_client, client, fake, token="pm_card_visa", **card) -> dict:
    """Save a card the storefront's way: SetupIntent, Stripe.js confirms it, webhooks mirror it."""
    answer = api_client.post("/api/v1/payment-methods/setup-intent")
    assert answer.status_code == 201, answer.json()
    seti_id = answer.json()["client_secret"].split("_secret_")[0]
    setup_intent = fake.confirm_setup_intent(seti_id, token, **card)
    post_event(client, fake, "setup_intent.succeeded", setup_intent)
    pm = fake.payment_methods[setup_intent["payment_method"]]
    post_event(client, fake, "payment_method.attached", pm)
    [saved] = [m for m in api_client.get(SAVED).json() if m["id"] == mirrored_id(pm["id"])]
    return saved


def mirrored_id(stripe_id: str) -> int:
    return MirroredPaymentMethod.objects.get(id=stripe_id).djstripe_id


def stripe_payment(customer, price="59.98"):
    product = ProductFactory(price=Decimal(price), stock=10)
    order = make_order(customer, product)
    return make_payment(customer, order, method="stripe")


def process(api_client, payment, **body):
    return api_client.post(f"/api/v1/payments/{payment.pk}/process", body, format="json")


def test_config_serves_the_publishable_key_of_the_current_mode(api, customer, settings):
    settings.STRIPE_TEST_PUBLIC_KEY = "pk_test_" + "P" * 24
    settings.STRIPE_LIVE_PUBLIC_KEY = "pk_live_" + "L" * 24

    def body_of():
        return api(customer).get("/api/v1/payment-methods/config").json()

    body = body_of()
    assert body == {
        "stripe": {
            "publishable_key": "pk_test_" + "P" * 24,
            "payment_method_types": ["card"],
            "wallets": ["apple_pay", "google_pay"],
        }
    }
    settings.STRIPE_LIVE_MODE = True
    settings.STRIPE_LIVE_SECRET_KEY = "sk_live_" + "S" * 24
    assert body_of()["stripe"]["publishable_key"] == "pk_live_" + "L" * 24
    settings.STRIPE_LIVE_PUBLIC_KEY = ""  # the live secret key alone: Stripe.js cannot start
    assert body_of() == {}
    settings.STRIPE_LIVE_MODE = False
    settings.STRIPE_TEST_SECRET_KEY = ""  # Stripe not configured: no key is served
    assert api(customer).get("/api/v1/payment-methods/config/").json() == {}
    assert api().get("/api/v1/payment-methods/config").status_code == 401


def test_save_list_default_and_remove(api, client, customer, fake_stripe):
    shopper = api(customer)
    answer = shopper.post("/api/v1/payment-methods/setup-intent")
    [seti] = fake_stripe.setup_intents.values()
    assert answer.json() == {"id": seti["id"], "client_secret": seti["client_secret"]}
    cus = Customer.objects.get(subscriber=customer)
    assert (seti["customer"], seti["usage"]) == (cus.id, "off_session")

    visa = save_card(shopper, client, fake_stripe, exp_month=4, exp_year=2031)
    assert visa | {"id": 0, "created_at": None} == {
        "id": 0,
        "type": "card",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 4,
        "exp_year": 2031,
        "wallet": None,
        "is_default": False,
        "expired": False,
        "created_at": None,
    }
    master = save_card(shopper, client, fake_stripe, brand="mastercard", last4="4444")
    assert [m["last4"] for m in shopper.get(SAVED).json()] == ["4444", "4242"]  # newest first

    made = shopper.post(f"{SAVED}/{visa['id']}/default")
    assert made.status_code == 200 and made.json()["is_default"] is True
    visa_pm = MirroredPaymentMethod.objects.get(djstripe_id=visa["id"]).id
    assert fake_stripe.customers[cus.id]["invoice_settings"]["default_payment_method"] == visa_pm
    shopper.post(f"{SAVED}/{master['id']}/default/")
    defaults = {m["last4"]: m["is_default"] for m in shopper.get(SAVED).json()}
    assert defaults == {"4242": False, "4444": True}

    removed = shopper.delete(f"{SAVED}/{master['id']}")
    assert removed.status_code == 204
    master_pm = MirroredPaymentMethod.objects.get(djstripe_id=master["id"]).id
    assert fake_stripe.payment_methods[master_pm]["customer"] is None
    assert fake_stripe.customers[cus.id]["invoice_settings"]["default_payment_method"] is None
    assert [m["last4"] for m in shopper.get(SAVED).json()] == ["4242"]
    assert shopper.delete(f"{SAVED}/{master['id']}").status_code == 404


def test_someone_elses_method_is_404_and_refused_at_process(
    api, client, customer, other_customer, fake_stripe
):
    visa = save_card(api(customer), client, fake_stripe)
    intruder = api(other_customer)
    assert intruder.get(SAVED).json() == []
    for response in (
        intruder.post(f"{SAVED}/{visa['id']}/default"),
        intruder.delete(f"{SAVED}/{visa['id']}"),
        intruder.post(f"{SAVED}/999999/default"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"
    payment = stripe_payment(other_customer)
    refused = process(intruder, payment, saved_payment_method_id=visa["id"])
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["saved_payment_method_id"]
    assert fake_stripe.count("payment_intents") == 0
    assert api(customer).get(SAVED).json()[0]["id"] == visa["id"]  # untouched


def test_removed_in_the_dashboard_is_gone_here(api, client, customer, fake_stripe):
    shopper = api(customer)
    visa = save_card(shopper, client, fake_stripe)
    shopper.post(f"{SAVED}/{visa['id']}/default")
    pm_id = MirroredPaymentMethod.objects.get(djstripe_id=visa["id"]).id
    post_event(client, fake_stripe, "payment_method.detached", fake_stripe.dashboard_detach(pm_id))
    assert shopper.get(SAVED).json() == []
    payment = stripe_payment(customer)
    refused = process(shopper, payment, saved_payment_method_id="default")
    assert refused.json()["error"]["code"] == "VALIDATION_ERROR"


def test_pay_with_a_saved_card_and_with_the_default(api, client, customer, fake_stripe):
    shopper = api(customer)
    visa = save_card(shopper, client, fake_stripe)
    payment = stripe_payment(customer)
    body = process(shopper, payment, saved_payment_method_id=visa["id"]).json()
    assert (body["status"], body["saved_payment_method_id"]) == ("completed", visa["id"])
    pi = fake_stripe.payment_intents[body["gateway_transaction_id"]]
    pm_id = MirroredPaymentMethod.objects.get(djstripe_id=visa["id"]).id
    assert (pi["payment_method"], pi["customer"]) == (
        pm_id,
        Customer.objects.get(subscriber=customer).id,
    )
    assert pi["setup_future_usage"] is None

    no_default = process(shopper, stripe_payment(customer), saved_payment_method_id="default")
    assert no_default.status_code == 400
    shopper.post(f"{SAVED}/{visa['id']}/default")
    second = process(shopper, stripe_payment(customer), saved_payment_method_id="default").json()
    assert second["status"] == "completed"
    assert fake_stripe.payment_intents[second["gateway_transaction_id"]]["payment_method"] == pm_id


def test_a_saved_card_that_needs_3ds_asks_for_the_buyer(api, client, customer, fake_stripe):
    shopper = api(customer)
    card = save_card(shopper, client, fake_stripe, "pm_card_threeDSecure2Required")
    body = process(shopper, stripe_payment(customer), saved_payment_method_id=card["id"]).json()
    assert body["status"] == "requires_action"
    assert body["next_action"]["client_secret"].startswith(body["gateway_transaction_id"])


def test_an_expired_card_is_shown_expired_and_refused(api, client, customer, fake_stripe):
    shopper = api(customer)
    old = save_card(shopper, client, fake_stripe, exp_month=1, exp_year=2020)
    assert old["expired"] is True
    payment = stripe_payment(customer)
    refused = process(shopper, payment, saved_payment_method_id=old["id"])
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "PAYMENT_METHOD_ERROR"
    assert fake_stripe.count("payment_intents") == 0
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("pending", 0)


def test_pay_and_save_the_card(api, client, customer, fake_stripe):
    shopper = api(customer)
    payment = stripe_payment(customer)
    body = process(shopper, payment, payment_method_id="pm_card_visa", save_payment_method=True)
    assert body.json()["status"] == "completed"
    pi = fake_stripe.payment_intents[body.json()["gateway_transaction_id"]]
    assert pi["setup_future_usage"] == "off_session"
    pm = fake_stripe.payment_methods[pi["payment_method"]]
    assert pm["customer"] == Customer.objects.get(subscriber=customer).id
    post_event(client, fake_stripe, "payment_method.attached", pm)
    [saved] = shopper.get(SAVED).json()
    assert (saved["brand"], saved["last4"]) == ("visa", "4242")


def test_wallets_are_recorded_on_the_payment_and_the_saved_method(
    api, client, customer, fake_stripe
):
    shopper = api(customer)
    body = process(shopper, stripe_payment(customer), payment_method_id="pm_card_applePay").json()
    assert (body["status"], body["wallet"]) == ("completed", "apple_pay")
    assert "card" not in json.dumps(Payment.objects.get(pk=body["id"]).gateway_response)
    gpay = save_card(shopper, client, fake_stripe, "pm_card_googlePay")
    assert gpay["wallet"] == "google_pay"
    paid = process(shopper, stripe_payment(customer), saved_payment_method_id=gpay["id"]).json()
    assert (paid["status"], paid["wallet"]) == ("completed", "google_pay")
    pi = fake_stripe.payment_intents[paid["gateway_transaction_id"]]
    assert pi["payment_method_types"] == ["card"]  # wallets pay as cards


def test_a_wallet_card_that_needs_3ds_keeps_its_wallet_to_the_end(
    api, client, customer, fake_stripe
):
    shopper = api(customer)
    card = save_card(
        shopper, client, fake_stripe, "pm_card_threeDSecure2Required", wallet="apple_pay"
    )
    body = process(shopper, stripe_payment(customer), saved_payment_method_id=card["id"]).json()
    assert (body["status"], body["wallet"]) == ("requires_action", "apple_pay")
    pi = fake_stripe.buyer_authenticates(body["gateway_transaction_id"])
    post_event(client, fake_stripe, "payment_intent.succeeded", pi)
    paid = shopper.get(f"/api/v1/payments/{body['id']}").json()
    assert (paid["status"], paid["wallet"]) == ("completed", "apple_pay")
    # Read back from Stripe (a lost answer, the webhook's reconciliation): the wallet is there.
    gateway = get_gateway("stripe")
    again = gateway.retrieve(operation="charge", idempotency_key="", reference=pi["id"])
    assert again.wallet == "apple_pay"
    assert result_from_payment_intent(gateway.payment_intent(pi["id"])).wallet == "apple_pay"
    [listed] = gateway.payment_intents_since(0)
    assert wallet_of(listed["payment_method"]) == "apple_pay"


def test_a_customer_deleted_in_the_dashboard_is_replaced(api, client, customer, fake_stripe):
    shopper = api(customer)
    save_card(shopper, client, fake_stripe)
    first = Customer.objects.get(subscriber=customer)
    deleted = copy.deepcopy(fake_stripe.customers[first.id])
    fake_stripe.dashboard_delete_customer(first.id)
    post_event(client, fake_stripe, "customer.deleted", deleted)
    # A new Customer, not Stripe's replay of the deleted one's creation (same day, same user).
    again = shopper.post("/api/v1/payment-methods/setup-intent")
    assert again.status_code == 201, again.json()
    second = Customer.objects.get(subscriber=customer, date_purged__isnull=True)
    assert second.id != first.id and second.id in fake_stripe.customers
    assert fake_stripe.setup_intents[again.json()["id"]]["customer"] == second.id
    payment = stripe_payment(customer)
    body = process(shopper, payment, payment_method_id="pm_card_visa", save_payment_method=True)
    assert body.json()["status"] == "completed", body.json()
    assert (
        fake_stripe.payment_intents[body.json()["gateway_transaction_id"]]["customer"] == second.id
    )
    # Once that one is there, it is the one used (no third Customer).
    shopper.post("/api/v1/payment-methods/setup-intent")
    assert Customer.objects.filter(subscriber=customer).count() == 1
    assert len(fake_stripe.customers) == 1


def test_saved_methods_and_saving_are_stripe_only(api, customer, fake_stripe):
    order = make_order(customer, ProductFactory(stock=5))
    payment = make_payment(customer, order, method="simulated")
    for body in (
        {"saved_payment_method_id": 1},
        {"payment_method_id": "tok_success", "save_payment_method": True},
    ):
        response = process(api(customer), payment, **body)
        assert response.json()["error"]["code"] == "PAYMENT_METHOD_ERROR"
    both = process(
        api(customer), payment, payment_method_id="tok_success", saved_payment_method_id=1
    )
    assert both.json()["error"]["code"] == "VALIDATION_ERROR"
    for bad in ("first", 0, -1, True, 1.5, "12a"):
        response = process(api(customer), payment, saved_payment_method_id=bad)
        assert response.json()["error"]["code"] == "VALIDATION_ERROR", bad
    payment.refresh_from_db()
    assert payment.attempts == 0


def test_metadata_is_kept_returned_and_sent_to_stripe(api, customer, fake_stripe):
    order = make_order(customer, ProductFactory(price=Decimal("10.00"), stock=5))
    shopper = api(customer)
    metadata = {"cart_id": "c-77", "channel": "app", "payment_id": "spoofed"}
    created = shopper.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "stripe", "amount": "10.00", "metadata": metadata},
        format="json",
    ).json()
    assert created["metadata"] == metadata
    assert shopper.get(f"/api/v1/payments/{created['id']}").json()["metadata"] == metadata
    listed = shopper.get("/api/v1/payments").json()["results"][0]
    assert listed["metadata"] == metadata
    body = shopper.post(
        f"/api/v1/payments/{created['id']}/process",
        {"payment_method_id": "pm_card_visa"},
        format="json",
    ).json()
    sent = fake_stripe.payment_intents[body["gateway_transaction_id"]]["metadata"]
    assert (sent["cart_id"], sent["channel"]) == ("c-77", "app")
    assert sent["payment_id"] == str(created["id"])  # ours wins: webhooks find payments by it


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": "v" for i in range(21)},
        {"k": 5},
        {"k": "v" * 501},
        {"k" * 41: "v"},
        {"": "v"},
        {"a[b]": "v"},
        ["k", "v"],
        "k=v",
    ],
    ids=["21-keys", "number", "long-value", "long-key", "empty-key", "brackets", "list", "string"],
)
def test_bad_metadata_is_a_validation_error(api, customer, metadata):
    order = make_order(customer, ProductFactory(price=Decimal("10.00"), stock=5))
    response = api(customer).post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": "10", "metadata": metadata},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "metadata" in response.json()["error"]["details"]
    assert not Payment.objects.exists()


def test_admin_shows_saved_methods_and_what_paid(api, client, customer, fake_stripe):
    from tests.factories import UserFactory

    shopper = api(customer)
    card = save_card(shopper, client, fake_stripe, "pm_card_applePay", last4="1881", exp_year=2033)
    shopper.post(f"{SAVED}/{card['id']}/default")
    paid = process(shopper, stripe_payment(customer), saved_payment_method_id=card["id"]).json()
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(root)
    user_page = client.get(f"/admin/users/user/{customer.pk}/change/").content.decode()
    assert "visa •••• 1881, exp 12/2033, apple_pay, default" in user_page
    assert 'name="saved_methods"' not in user_page  # read-only: no input
    payment_page = client.get(f"/admin/payments/payment/{paid['id']}/change/").content.decode()
    assert "visa •••• 1881" in payment_page and "wallet: apple_pay" in payment_page


def test_a_card_number_in_metadata_is_refused(api, customer):
    order = make_order(customer, ProductFactory(price=Decimal("10.00"), stock=5))
    response = api(customer).post(
        "/api/v1/payments",
        {
            "order_id": order.pk,
            "payment_method": "simulated",
            "amount": "10",
            "metadata": {"note": "4242 4242 4242 4242"},
        },
        format="json",
    )
    assert response.json()["error"]["code"] == "CARD_DATA_NOT_ALLOWED"
    assert not Payment.objects.exists()


def test_stripe_failures_answer_gateway_error(api, client, customer, fake_stripe):
    shopper = api(customer)
    fake_stripe.fail_next_with_500 = 1  # the Customer cannot be created
    failed = shopper.post("/api/v1/payment-methods/setup-intent")
    assert (failed.status_code, failed.json()["error"]["code"]) == (502, "GATEWAY_ERROR")
    visa = save_card(shopper, client, fake_stripe)
    fake_stripe.fail_next_with_500 = 1
    failed = shopper.delete(f"{SAVED}/{visa['id']}")
    assert (failed.status_code, failed.json()["error"]["code"]) == (502, "GATEWAY_ERROR")
    assert [m["id"] for m in shopper.get(SAVED).json()] == [visa["id"]]  # still saved
    keyed = {"HTTP_IDEMPOTENCY_KEY": "setup-1"}
    first = shopper.post("/api/v1/payment-methods/setup-intent", **keyed).json()
    again = shopper.post("/api/v1/payment-methods/setup-intent", **keyed).json()
    assert first == again  # Stripe replays the same SetupIntent for the same key


def test_saving_and_defaults_keep_the_idempotency_key_contract(api, client, customer, fake_stripe):
    shopper = api(customer)
    visa = save_card(shopper, client, fake_stripe)
    mastercard = save_card(shopper, client, fake_stripe, brand="mastercard", last4="4444")
    made = fake_stripe.count("setup_intents")
    keyed = {"HTTP_IDEMPOTENCY_KEY": "save-2"}
    first = shopper.post("/api/v1/payment-methods/setup-intent", **keyed)
    again = shopper.post("/api/v1/payment-methods/setup-intent", **keyed)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert fake_stripe.count("setup_intents") == made + 1
    # The same key on another path or body is refused, never acted on.
    for path in (f"{SAVED}/{visa['id']}/default", f"/api/v1/payments/{visa['id']}/process"):
        reused = shopper.post(path, {}, format="json", **keyed)
        assert reused.status_code == 422, reused.json()
        assert reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    keyed = {"HTTP_IDEMPOTENCY_KEY": "default-visa"}
    made_default = shopper.post(f"{SAVED}/{visa['id']}/default", **keyed)
    assert made_default.json()["is_default"] is True
    other = shopper.post(f"{SAVED}/{mastercard['id']}/default", **keyed)
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert [m["id"] for m in shopper.get(SAVED).json() if m["is_default"]] == [visa["id"]]
    # A retry of the first answers what it answered, without asking Stripe again.
    calls = len(fake_stripe.requests)
    replayed = shopper.post(f"{SAVED}/{visa['id']}/default", **keyed)
    assert (replayed.json(), replayed["Idempotent-Replayed"]) == (made_default.json(), "true")
    assert len(fake_stripe.requests) == calls


def test_the_longest_client_key_fits_stripes_limit(api, customer, fake_stripe):
    shopper = api(customer)
    longest = {"HTTP_IDEMPOTENCY_KEY": "k" * 255}
    created = shopper.post("/api/v1/payment-methods/setup-intent", **longest)
    assert created.status_code == 201, created.json()
    again = api(customer).post("/api/v1/payment-methods/setup-intent", **longest)
    assert again.json() == created.json()


@pytest.mark.postgres
def test_a_key_in_flight_answers_409_and_is_free_after_a_failure(api, customer, fake_stripe):
    held, release = threading.Event(), threading.Event()

    def first_request_in_flight():
        try:
            with connection.cursor() as cursor:
                lock_id = idempotency.advisory_lock_id(customer.pk, "busy")
                cursor.execute("SELECT pg_advisory_lock(%s)", [lock_id])
                held.set()
                release.wait(10)
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
        finally:
            connection.close()

    thread = threading.Thread(target=first_request_in_flight)
    thread.start()
    try:
        assert held.wait(10)
        busy = api(customer).post(
            "/api/v1/payment-methods/setup-intent", HTTP_IDEMPOTENCY_KEY="busy"
        )
    finally:
        release.set()
        thread.join()
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "IDEMPOTENCY_KEY_IN_USE")
    assert fake_stripe.count("setup_intents") == 0
    fake_stripe.fail_next_with_500 = 1
    failed = api(customer).post("/api/v1/payment-methods/setup-intent", HTTP_IDEMPOTENCY_KEY="busy")
    assert failed.status_code == 502
    # Released after the failure, and nothing stored: the retry runs.
    retried = api(customer).post(
        "/api/v1/payment-methods/setup-intent", HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert retried.status_code == 201, retried.json()


def test_someone_elses_method_is_404_with_stripe_switched_off(
    api, client, customer, other_customer, fake_stripe, settings
):
    visa = save_card(api(customer), client, fake_stripe)
    settings.PAYMENT_GATEWAYS = [name for name in settings.PAYMENT_GATEWAYS if name != "stripe"]
    intruder = api(other_customer)
    for response in (
        intruder.post(f"{SAVED}/{visa['id']}/default"),
        intruder.delete(f"{SAVED}/{visa['id']}"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"
    # The owner learns why nothing can be done with it now.
    mine = api(customer).post(f"{SAVED}/{visa['id']}/default")
    assert mine.json()["error"]["code"] == "PAYMENT_METHOD_ERROR"

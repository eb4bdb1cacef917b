"""A small fake Stripe API on 127.0.0.1 for the real SDK and dj-stripe to talk to over HTTP.

Objects are shaped after tests/fixtures/stripe/fixtures3.json. Behaviour follows Stripe's test
PaymentMethods, and idempotency keys are honoured as Stripe does: the same key replays the
first answer, error answers included.
"""

import copy
import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

FIXTURES = json.loads(
    (Path(__file__).resolve().parent / "fixtures" / "stripe" / "fixtures3.json").read_text()
)["resources"]
_ids = itertools.count(1)

CARD_OUTCOMES = {
    "pm_card_visa": ("ok", None, None),
    "pm_card_visa_chargeDeclined": ("card_error", "card_declined", "generic_decline"),
    "pm_card_visa_chargeDeclinedInsufficientFunds": (
        "card_error",
        "card_declined",
        "insufficient_funds",
    ),
    "pm_card_threeDSecure2Required": ("requires_action", None, None),
    "pm_card_applePay": ("ok", None, None),
    "pm_card_googlePay": ("ok", None, None),
}
# Test tokens whose PaymentMethod comes from a wallet (Stripe.js's Payment Request Button).
TOKEN_WALLETS = {"pm_card_applePay": "apple_pay", "pm_card_googlePay": "google_pay"}


def new_id(prefix: str) -> str:
    return f"{prefix}_fake{next(_ids):08d}{int(time.time() * 1000) % 100000:05d}"


def _unflatten(pairs):
    """Turn a[b]=1&c=2 into {"a": {"b": "1"}, "c": "2"}."""
    result: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return result


def _error(status, type_, message, code=None, decline_code=None, param=None, payment_intent=None):
    error = {"type": type_, "message": message}
    if code:
        error["code"] = code
    if decline_code:
        error["decline_code"] = decline_code
    if param:
        error["param"] = param
    if payment_intent:
        error["payment_intent"] = payment_intent
    return status, {"error": error}


def missing(kind, object_id):
    return _error(
        404,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param="id",
    )


class FakeStripe:
    """State and behaviour of the fake; the HTTP handler below only routes to it."""

    def __init__(self):
        self.lock = threading.RLock()
        self.payment_intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.deleted_customers: set[str] = set()
        self.charges: dict[str, dict] = {}
        self.disputes: dict[str, dict] = {}
        self.payment_methods: dict[str, dict] = {}
        self.setup_intents: dict[str, dict] = {}
        self.outcome_of: dict[str, str] = {}  # PaymentMethod id -> the test token it behaves as
        self.idempotent: dict[str, tuple[int, dict]] = {}
        self.requests: list[tuple[str, str]] = []
        self.drop_next_response = False  # simulate a timeout after Stripe acted
        self.fail_next_with_500 = 0

    # -- objects --------------------------------------------------------------

    def _payment_intent(self, params) -> dict:
        pi = copy.deepcopy(FIXTURES["payment_intent"])
        pi_id = new_id("pi")
        pi.update(
            id=pi_id,
            amount=int(params["amount"]),
            currency=params["currency"],
            created=int(time.time()),
            livemode=False,
            metadata=params.get("metadata", {}),
            customer=params.get("customer"),
            capture_method=params.get("capture_method", "automatic"),
            setup_future_usage=params.get("setup_future_usage"),
            payment_method_types=list((params.get("payment_method_types") or {}).values())
            or ["card"],
            payment_method=None,
            client_secret=f"{pi_id}_secret_fake",
            status="requires_payment_method",
            amount_received=0,
            amount_capturable=0,
            canceled_at=None,
            cancellation_reason=None,
            last_payment_error=None,
            next_action=None,
            processing=None,
            transfer_data=None,
            latest_charge=None,
            payment_method_configuration_details=None,
        )
        return pi

    def _charge(self, pi) -> dict:
        charge = copy.deepcopy(FIXTURES["charge"])
        charge_id = new_id("ch")
        charge.update(
            id=charge_id,
            amount=pi["amount"],
            amount_captured=pi["amount_received"],
            amount_refunded=0,
            currency=pi["currency"],
            payment_intent=pi["id"],
            customer=pi["customer"],
            created=int(time.time()),
            livemode=False,
            metadata={},
            refunded=False,
            captured=pi["status"] == "succeeded",
            status="succeeded",
            payment_method=None,
            balance_transaction=None,
            invoice=None,
            on_behalf_of=None,
            source_transfer=None,
            transfer=None,
            application=None,
            application_fee=None,
            review=None,
            failure_balance_transaction=None,
        )
        for key in (
            "refunds",
            "source",
            "payment_method_details",
            "outcome",
            "transfer_data",
            "shipping",
            "billing_details",
            "fraud_details",
            "radar_options",
            "level3",
            "presentment_details",
        ):
            charge.pop(key, None)
        self.charges[charge_id] = charge
        pi["latest_charge"] = charge_id
        return charge

    def new_payment_method(
        self,
        token: str = "pm_card_visa",
        *,
        customer: str | None = None,
        brand: str = "visa",
        last4: str = "4242",
        exp_month: int = 12,
        exp_year: int = 2099,
        wallet: str | None = None,
    ) -> dict:
        """Create a card PaymentMethod that charges like the test token it is made from."""
        with self.lock:
            pm = copy.deepcopy(FIXTURES["payment_method"])
            wallet = wallet or TOKEN_WALLETS.get(token)
            pm.update(
                id=new_id("pm"),
                customer=customer,
                customer_account=None,
                created=int(time.time()),
                livemode=False,
                metadata={},
            )
            pm["card"].update(
                brand=brand,
                display_brand=brand,
                last4=last4,
                exp_month=exp_month,
                exp_year=exp_year,
                wallet={"type": wallet, "dynamic_last4": None} if wallet else None,
            )
            self.payment_methods[pm["id"]] = pm
            self.outcome_of[pm["id"]] = token
            return copy.deepcopy(pm)

    def _method_for_charge(self, method: str, customer: str | None):
        """Resolve what the PaymentIntent charges: a stored PaymentMethod, or a test token."""
        if method in self.payment_methods:
            pm = self.payment_methods[method]
            if pm["customer"] and pm["customer"] != customer:
                return None, _error(
                    400,
                    "invalid_request_error",
                    "The provided PaymentMethod belongs to another Customer.",
                    param="payment_method",
                )
            return pm, None
        if method in CARD_OUTCOMES:
            return self.payment_methods[self.new_payment_method(method)["id"]], None
        return None, _error(
            400,
            "invalid_request_error",
            f"No such PaymentMethod: '{method}'",
            code="resource_missing",
            param="payment_method",
        )

    @staticmethod
    def _expired(pm) -> bool:
        card = pm["card"]
        now = time.gmtime()
        return (card["exp_year"], card["exp_month"]) < (now.tm_year, now.tm_mon)

    def _expanded(self, pi, params) -> dict:
        """Answer with payment_method expanded when the request asked for it, as Stripe does."""
        pi = copy.deepcopy(pi)
        if "payment_method" in (params.get("expand") or {}).values() and pi["payment_method"]:
            pi["payment_method"] = copy.deepcopy(self.payment_methods[pi["payment_method"]])
        return pi

    def create_payment_intent(self, params):
        if params.get("customer") and params["customer"] not in self.customers:
            return missing("customer", params["customer"])  # deleted in the Dashboard, say
        status, answer = self._create_payment_intent(params)
        return (status, self._expanded(answer, params)) if status == 200 else (status, answer)

    def _create_payment_intent(self, params):
        pi = self._payment_intent(params)
        if params.get("confirm") != "true":
            self.payment_intents[pi["id"]] = pi
            return 200, pi
        pm, refused = self._method_for_charge(params.get("payment_method", ""), pi["customer"])
        if refused:
            return refused
        self.payment_intents[pi["id"]] = pi
        pi["payment_method"] = pm["id"]
        outcome, code, decline = CARD_OUTCOMES[self.outcome_of[pm["id"]]]
        if self._expired(pm):
            outcome, code, decline = "card_error", "expired_card", None
        if outcome != "card_error" and params.get("setup_future_usage") and pi["customer"]:
            pm["customer"] = pi["customer"]  # Stripe attaches it once the payment is confirmed
        if outcome == "card_error":
            pi["last_payment_error"] = {
                "type": "card_error",
                "code": code,
                "decline_code": decline,
                "message": "Your card was declined.",
            }
            return _error(
                402,
                "card_error",
                "Your card was declined.",
                code=code,
                decline_code=decline,
                payment_intent=pi,
            )
        if outcome == "requires_action":
            pi["status"] = "requires_action"
            pi["next_action"] = {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {"type": "three_d_secure_redirect"},
            }
            return 200, pi
        if pi["capture_method"] == "manual":
            pi["status"], pi["amount_capturable"] = "requires_capture", pi["amount"]
        else:
            pi["status"], pi["amount_received"] = "succeeded", pi["amount"]
        self._charge(pi)
        return 200, pi

    def buyer_authenticates(self, pi_id: str) -> dict:
        """What Stripe.js does when the buyer passes 3-D Secure: the PaymentIntent succeeds."""
        with self.lock:
            pi = self.payment_intents[pi_id]
            pi.update(status="succeeded", amount_received=pi["amount"], next_action=None)
            self._charge(pi)
            return copy.deepcopy(pi)

    def capture(self, pi_id, params):
        pi = self.payment_intents.get(pi_id)
        if pi is None:
            return missing("payment_intent", pi_id)
        if pi["status"] != "requires_capture":
            return _error(
                400,
                "invalid_request_error",
                "This PaymentIntent could not be captured.",
                code="payment_intent_unexpected_state",
            )
        amount = int(params.get("amount_to_capture", pi["amount"]))
        if amount > pi["amount_capturable"]:
            return _error(
                400,
                "invalid_request_error",
                "Amount to capture is too large.",
                code="amount_too_large",
            )
        pi.update(status="succeeded", amount_received=amount, amount_capturable=0)
        if pi["latest_charge"]:
            self.charges[pi["latest_charge"]].update(captured=True, amount_captured=amount)
        return 200, pi

    def cancel(self, pi_id):
        pi = self.payment_intents.get(pi_id)
        if pi is None:
            return missing("payment_intent", pi_id)
        if pi["status"] == "succeeded":
            return _error(
                400,
                "invalid_request_error",
                "You cannot cancel this PaymentIntent.",
                code="payment_intent_unexpected_state",
            )
        pi.update(
            status="canceled",
            canceled_at=int(time.time()),
            cancellation_reason="requested_by_customer",
            amount_capturable=0,
        )
        return 200, pi

    def refunded_total(self, pi_id) -> int:
        return sum(
            r["amount"]
            for r in self.refunds.values()
            if r["payment_intent"] == pi_id and r["status"] == "succeeded"
        )

    def create_refund(self, params):
        pi = self.payment_intents.get(params.get("payment_intent", ""))
        if pi is None:
            return missing("payment_intent", params.get("payment_intent"))
        left = pi["amount_received"] - self.refunded_total(pi["id"])
        amount = int(params.get("amount", left))
        if amount > left or left <= 0:
            return _error(
                400,
                "invalid_request_error",
                "Refund amount is greater than unrefunded amount.",
                code="amount_too_large",
            )
        refund = copy.deepcopy(FIXTURES["refund"])
        refund.update(
            id=new_id("re"),
            amount=amount,
            currency=pi["currency"],
            payment_intent=pi["id"],
            charge=pi["latest_charge"],
            created=int(time.time()),
            metadata=params.get("metadata", {}),
            status="succeeded",
            destination_details=None,
            balance_transaction=None,
        )
        self.refunds[refund["id"]] = refund
        if pi["latest_charge"]:
            charge = self.charges[pi["latest_charge"]]
            charge["amount_refunded"] = self.refunded_total(pi["id"])
            charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        return 200, refund

    def dashboard_refund(self, pi_id: str, amount: int) -> dict:
        """A refund staff made in Stripe's Dashboard: no idempotency key, no metadata of ours."""
        with self.lock:
            return self.create_refund({"payment_intent": pi_id, "amount": str(amount)})[1]

    def dispute(self, pi_id: str, *, status: str, amount: int, due_by: int, dp_id=None) -> dict:
        """Open or move a dispute on a PaymentIntent's charge, as the card network would."""
        with self.lock:
            pi = self.payment_intents[pi_id]
            dp_id = dp_id or new_id("dp")
            dispute = self.disputes.setdefault(
                dp_id,
                {
                    "id": dp_id,
                    "object": "dispute",
                    "amount": amount,
                    "currency": pi["currency"],
                    "charge": pi["latest_charge"],
                    "payment_intent": pi_id,
                    "reason": "fraudulent",
                    "created": int(time.time()),
                    "livemode": False,
                    "metadata": {},
                    "balance_transactions": [],
                    "is_charge_refundable": False,
                },
            )
            dispute.update(status=status, evidence_details={"due_by": due_by})
            return copy.deepcopy(dispute)

    def event(self, type_: str, obj: dict, *, created: int | None = None) -> dict:
        """Build an event as Stripe would post it."""
        return {
            "id": new_id("evt"),
            "object": "event",
            "api_version": "2026-08-26.dahlia",
            "created": created or int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
            "data": {"object": copy.deepcopy(obj)},
        }

    # -- saved methods: SetupIntents, attach/detach, the Customer's default ----

    def create_setup_intent(self, params):
        if params.get("customer") not in self.customers:
            return missing("customer", params.get("customer"))
        seti = copy.deepcopy(FIXTURES["setup_intent"])
        seti_id = new_id("seti")
        seti.update(
            id=seti_id,
            client_secret=f"{seti_id}_secret_fake",
            created=int(time.time()),
            customer=params["customer"],
            usage=params.get("usage", "off_session"),
            payment_method_types=list((params.get("payment_method_types") or {}).values())
            or ["card"],
            metadata=params.get("metadata", {}),
            status="requires_payment_method",
            last_setup_error=None,
            next_action=None,
            payment_method_configuration_details=None,
        )
        self.setup_intents[seti_id] = seti
        return 200, seti

    def confirm_setup_intent(self, seti_id: str, token: str = "pm_card_visa", **card) -> dict:
        """What Stripe.js does on the storefront: a new card, attached, the SetupIntent succeeded."""
        with self.lock:
            seti = self.setup_intents[seti_id]
            pm = self.new_payment_method(token, customer=seti["customer"], **card)
            seti.update(status="succeeded", payment_method=pm["id"])
            return copy.deepcopy(seti)

    def attach(self, pm_id, params):
        pm = self.payment_methods.get(pm_id)
        if pm is None:
            return missing("payment_method", pm_id)
        if params.get("customer") not in self.customers:
            return missing("customer", params.get("customer"))
        pm["customer"] = params["customer"]
        return 200, pm

    def detach(self, pm_id):
        pm = self.payment_methods.get(pm_id)
        if pm is None:
            return missing("payment_method", pm_id)
        if not pm["customer"]:
            return _error(
                400,
                "invalid_request_error",
                "The payment method you provided is not attached to a customer so detachment "
                "is impossible.",
                code="payment_method_unexpected_state",
            )
        customer = self.customers.get(pm["customer"])
        if customer and customer["invoice_settings"]["default_payment_method"] == pm_id:
            customer["invoice_settings"]["default_payment_method"] = None
        pm["customer"] = None
        return 200, pm

    def dashboard_detach(self, pm_id: str) -> dict:
        """Staff remove a card in Stripe's Dashboard: no call of ours is involved."""
        with self.lock:
            return copy.deepcopy(self.detach(pm_id)[1])

    def dashboard_delete_customer(self, customer_id: str) -> dict:
        """Staff delete a Customer in Stripe's Dashboard; return the deleted object's stub."""
        with self.lock:
            self.customers.pop(customer_id)
            self.deleted_customers.add(customer_id)
            return {"id": customer_id, "object": "customer", "deleted": True}

    def update_customer(self, customer_id, params):
        customer = self.customers.get(customer_id)
        if customer is None:
            return missing("customer", customer_id)
        default = (params.get("invoice_settings") or {}).get("default_payment_method")
        if default == "":  # Stripe's way of unsetting it
            customer["invoice_settings"]["default_payment_method"] = None
        elif default is not None:
            pm = self.payment_methods.get(default)
            if pm is None or pm["customer"] != customer_id:
                return _error(
                    400,
                    "invalid_request_error",
                    f"No such PaymentMethod: '{default}'",
                    code="resource_missing",
                    param="invoice_settings[default_payment_method]",
                )
            customer["invoice_settings"]["default_payment_method"] = default
        return 200, customer

    def methods_of(self, customer_id: str) -> list[dict]:
        return [pm for pm in self.payment_methods.values() if pm["customer"] == customer_id]

    def _list(self, url, items):
        return 200, {"object": "list", "data": items, "has_more": False, "url": url}

    def count(self, kind: str) -> int:
        return len(getattr(self, kind))

    # -- routing --------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict, params: dict, key: str | None):
        self.requests.append((method, path))
        with self.lock:
            if key and len(key) > 255:  # Stripe's own limit
                return _error(
                    400,
                    "invalid_request_error",
                    "Idempotency-Key must be at most 255 characters long.",
                    code="idempotency_key_too_long",
                )
            if key and method == "POST" and key in self.idempotent:
                return self.idempotent[key]
            if self.fail_next_with_500:
                self.fail_next_with_500 -= 1
                return _error(500, "api_error", "Something went wrong on Stripe's end.")
            answer = self._route(method, path, query, params)
            if key and method == "POST" and answer[0] < 500:
                self.idempotent[key] = answer
            return answer

    def _route(self, method, path, query, params):
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        if parts == ["account"]:
            account = copy.deepcopy(FIXTURES["account"])
            account.update(id="acct_fake", livemode=False, created=int(time.time()))
            return 200, account
        if parts[0] == "customers":
            if method == "POST" and len(parts) == 1:
                customer = copy.deepcopy(FIXTURES["customer"])
                customer.update(
                    id=new_id("cus"),
                    email=params.get("email"),
                    metadata=params.get("metadata", {}),
                    discount=None,
                    created=int(time.time()),
                    livemode=False,
                    default_source=None,
                    invoice_settings={
                        "default_payment_method": None,
                        "custom_fields": None,
                        "footer": None,
                        "rendering_options": None,
                    },
                    test_clock=None,
                )
                for stub in (
                    "sources",
                    "subscriptions",
                    "tax_ids",
                    "cash_balance",
                    "invoice_credit_balance",
                ):
                    customer.pop(stub, None)
                self.customers[customer["id"]] = customer
                return 200, customer
            if len(parts) == 3 and parts[2] == "payment_methods":
                return self._list(path, self.methods_of(parts[1]))
            if len(parts) == 2 and method == "POST":
                return self.update_customer(parts[1], params)
            if len(parts) == 2 and parts[1] in self.deleted_customers:
                if method == "DELETE":
                    return missing("customer", parts[1])
                return 200, {"id": parts[1], "object": "customer", "deleted": True}
            customer = self.customers.get(parts[1]) if len(parts) > 1 else None
            return (200, customer) if customer else missing("customer", parts[-1])
        if parts[0] == "setup_intents":
            if len(parts) == 1 and method == "POST":
                return self.create_setup_intent(params)
            seti = self.setup_intents.get(parts[1]) if len(parts) == 2 else None
            return (200, seti) if seti else missing("setup_intent", parts[-1])
        if parts[0] == "payment_methods":
            if len(parts) == 1:
                return self._list(path, self.methods_of(query.get("customer", "")))
            if len(parts) == 3 and parts[2] == "attach":
                return self.attach(parts[1], params)
            if len(parts) == 3 and parts[2] == "detach":
                return self.detach(parts[1])
            pm = self.payment_methods.get(parts[1])
            return (200, pm) if pm else missing("payment_method", parts[1])
        if parts[0] == "payment_intents":
            if len(parts) == 1 and method == "POST":
                return self.create_payment_intent(params)
            if len(parts) == 1:
                since = int((query.get("created") or {}).get("gte", 0))
                items = [pi for pi in self.payment_intents.values() if pi["created"] >= since]
                if "data.payment_method" in (query.get("expand") or {}).values():
                    items = [
                        self._expanded(pi, {"expand": {"0": "payment_method"}}) for pi in items
                    ]
                return 200, {
                    "object": "list",
                    "data": items,
                    "has_more": False,
                    "url": "/v1/payment_intents",
                }
            if len(parts) == 3 and parts[2] == "capture":
                return self.capture(parts[1], params)
            if len(parts) == 3 and parts[2] == "cancel":
                return self.cancel(parts[1])
            pi = self.payment_intents.get(parts[1])
            return (200, self._expanded(pi, query)) if pi else missing("payment_intent", parts[1])
        if parts[0] == "refunds":
            if len(parts) == 1 and method == "POST":
                return self.create_refund(params)
            if len(parts) == 1:
                items = [
                    r
                    for r in self.refunds.values()
                    if r["payment_intent"] == query.get("payment_intent")
                ]
                return 200, {
                    "object": "list",
                    "data": items,
                    "has_more": False,
                    "url": "/v1/refunds",
                }
            refund = self.refunds.get(parts[1])
            return (200, refund) if refund else missing("refund", parts[1])
        if parts[0] == "disputes" and len(parts) == 2:
            dispute = self.disputes.get(parts[1])
            return (200, dispute) if dispute else missing("dispute", parts[1])
        if parts[0] == "charges" and len(parts) == 2:
            charge = self.charges.get(parts[1])
            return (200, charge) if charge else missing("charge", parts[1])
        return missing(parts[0].rstrip("s"), parts[-1])


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe

    def log_message(self, *args):
        pass

    def _serve(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        params = _unflatten(parse_qsl(body, keep_blank_values=True))
        query = _unflatten(parse_qsl(url.query, keep_blank_values=True))
        status, payload = self.fake.handle(
            method, url.path, query, params, self.headers.get("Idempotency-Key")
        )
        if self.fake.drop_next_response and method == "POST":
            self.fake.drop_next_response = False
            self.close_connection = True
            self.connection.close()  # Stripe acted, but the answer never arrives
            return
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", new_id("req"))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")


def start_fake_stripe() -> tuple[FakeStripe, ThreadingHTTPServer]:
    """Start the fake on an ephemeral port; return it and its server."""
    fake = FakeStripe()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server


def sign(body: str, secret: str, timestamp: int | None = None) -> str:
    """Sign a webhook body the way Stripe does: t=...,v1=HMAC-SHA256(secret, 't.body')."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"

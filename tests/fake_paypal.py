"""A small fake PayPal REST API on 127.0.0.1 for our client to talk to over real HTTP.

It speaks the calls we make (OAuth2 token, Orders v2, Payments v2, transaction search and
verify-webhook-signature), replays the first answer to a repeated PayPal-Request-Id as PayPal
does, and offers test-only calls that play the buyer (approve) and PayPal's staff (a dashboard
refund, a reversal, an expired order).
"""

import base64
import copy
import itertools
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

_ids = itertools.count(1)
WEBHOOK_ID = "WH-FAKE-0001"


def new_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):08d}{uuid.uuid4().hex[:8].upper()}"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status: int, name: str, issue: str, links=None) -> tuple[int, dict]:
    body = {
        "name": name,
        "message": f"{name}: {issue}",
        "debug_id": new_id("dbg"),
        "details": [{"issue": issue, "description": issue.replace("_", " ").lower()}],
    }
    if links:
        body["links"] = links
    return status, body


def not_found(issue="INVALID_RESOURCE_ID"):
    return error(404, "RESOURCE_NOT_FOUND", issue)


class FakePayPal:
    """State and behaviour of the fake; the HTTP handler below only routes to it."""

    def __init__(self, base: str = ""):
        self.base = base
        self.lock = threading.RLock()
        self.orders: dict[str, dict] = {}
        self.captures: dict[str, dict] = {}
        self.authorizations: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.disputes: dict[str, dict] = {}
        self.instruments: dict[str, str] = {}  # order id -> the buyer's funding outcome
        self.replays: dict[tuple[str, str], tuple[int, dict]] = {}
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.requests: list[tuple[str, str, str]] = []  # (method, path, PayPal-Request-Id)
        self.signed: dict[str, str] = {}  # transmission id -> signature the fake issued
        self.fail_next_with_500 = 0
        self.fail_gets_with_500 = False
        self.drop_next_post = 0  # PayPal acted, but the answer never arrives
        self.delay_seconds = 0.0
        self.decline_link_suffix = ""  # appended to an INSTRUMENT_DECLINED answer's link

    # -- helpers for tests ------------------------------------------------------

    def count(self, method: str, fragment: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and fragment in p)

    def captures_of(self, order_id: str) -> list[dict]:
        return [c for c in self.captures.values() if c["order_id"] == order_id]

    def approve(self, order_id: str, instrument: str = "ok") -> None:
        """Play the buyer: approve the order with a funding source that behaves as told."""
        with self.lock:
            order = self.orders[order_id]
            order["status"] = "APPROVED"
            order["update_time"] = f"{now_iso()}#{next(_ids)}"
            order["payer"] = {"payer_id": "FAKEPAYER01", "email_address": "buyer@example.com"}
            self.instruments[order_id] = instrument

    def expire(self, order_id: str) -> None:
        """Forget an unapproved order, as PayPal does when its approval window closes."""
        with self.lock:
            self.orders.pop(order_id)

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def dashboard_refund(self, capture_id: str, amount: str, *, reversal=False) -> dict:
        """Refund (or reverse, for a chargeback) a capture from PayPal's side."""
        with self.lock:
            capture = self.captures[capture_id]
            return self._refund(capture, {"amount": {"value": amount}}, reversal=reversal)

    def open_dispute(
        self, capture_id: str, *, stage="CHARGEBACK", status="WAITING_FOR_SELLER_RESPONSE"
    ) -> dict:
        """Play the buyer: dispute a capture (its whole amount), as the Disputes API shows it."""
        with self.lock:
            capture = self.captures[capture_id]
            dispute_id = new_id("PP-D-")
            self.disputes[dispute_id] = {
                "dispute_id": dispute_id,
                "create_time": now_iso(),
                "update_time": now_iso(),
                "disputed_transactions": [{"seller_transaction_id": capture_id}],
                "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
                "status": status,
                "dispute_amount": dict(capture["amount"]),
                "dispute_life_cycle_stage": stage,
                "seller_response_due_date": "2026-12-20T00:00:00Z",
            }
            return copy.deepcopy(self.disputes[dispute_id])

    def move_dispute(self, dispute_id: str, status: str, outcome_code: str = "") -> dict:
        """Play PayPal: move a dispute on (RESOLVED with an outcome code closes it)."""
        with self.lock:
            dispute = self.disputes[dispute_id]
            dispute["status"] = status
            dispute["update_time"] = now_iso()
            if outcome_code:
                dispute["dispute_outcome"] = {"outcome_code": outcome_code}
            return copy.deepcopy(dispute)

    def sign(self, event: dict, *, transmission_time: str | None = None) -> dict:
        """Return the headers PayPal would send with this event."""
        transmission_id = str(uuid.uuid4())
        signature = uuid.uuid4().hex
        self.signed[transmission_id] = f"{signature}:{event['id']}"
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time or now_iso(),
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-CERT-URL": f"{self.base}/v1/notifications/certs/CERT-FAKE",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        }

    def event(self, event_type: str, resource: dict) -> dict:
        """Build a webhook event around a resource."""
        return {
            "id": new_id("WH-"),
            "event_version": "1.0",
            "create_time": now_iso(),
            "resource_type": event_type.split(".")[1].lower(),
            "event_type": event_type,
            "summary": event_type,
            "resource": copy.deepcopy(resource),
        }

    # -- objects ----------------------------------------------------------------

    def _links(self, kind: str, object_id: str, up: str = "") -> list[dict]:
        links = [{"href": f"{self.base}/v2/payments/{kind}/{object_id}", "rel": "self"}]
        if up:
            links.append({"href": up, "rel": "up"})
        return links

    def _order_view(self, order: dict) -> dict:
        view = copy.deepcopy({k: v for k, v in order.items() if not k.startswith("_")})
        payments = {}
        for kind, table in (("captures", self.captures), ("authorizations", self.authorizations)):
            made = [self._public(o) for o in table.values() if o["order_id"] == order["id"]]
            if made:
                payments[kind] = made
        refunds = [
            self._public(r)
            for r in self.refunds.values()
            if self.captures[r["capture_id"]]["order_id"] == order["id"]
        ]
        if refunds:
            payments["refunds"] = refunds
        if payments:
            view["purchase_units"][0]["payments"] = payments
        return view

    @staticmethod
    def _public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if k not in ("order_id", "capture_id")}

    def create_order(self, body: dict) -> tuple[int, dict]:
        unit = body["purchase_units"][0]
        value = unit["amount"]["value"]
        if body.get("intent") not in ("CAPTURE", "AUTHORIZE") or Decimal(value) <= 0:
            return error(422, "UNPROCESSABLE_ENTITY", "INVALID_PARAMETER_VALUE")
        order_id = new_id("PPO")
        order = {
            "id": order_id,
            "intent": body["intent"],
            "status": "PAYER_ACTION_REQUIRED",
            "create_time": now_iso(),
            "purchase_units": [copy.deepcopy(unit)],
            "links": [
                {"href": f"{self.base}/v2/checkout/orders/{order_id}", "rel": "self"},
                {
                    "href": f"{self.base}/checkoutnow?token={order_id}",
                    "rel": "payer-action",
                    "method": "GET",
                },
            ],
            "_experience": body.get("payment_source", {}).get("paypal", {}),
        }
        self.orders[order_id] = order
        return 200, self._order_view(order)

    def _settle_order(self, order_id: str, verb: str) -> tuple[int, dict]:
        order = self.orders.get(order_id)
        if order is None:
            return not_found()
        if order["status"] == "COMPLETED":
            issue = "ORDER_ALREADY_CAPTURED" if verb == "capture" else "ORDER_ALREADY_AUTHORIZED"
            return error(422, "UNPROCESSABLE_ENTITY", issue)
        if order["status"] != "APPROVED":
            return error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
        if (verb == "capture") != (order["intent"] == "CAPTURE"):
            return error(422, "UNPROCESSABLE_ENTITY", "ACTION_DOES_NOT_MATCH_INTENT")
        instrument = self.instruments.get(order_id, "ok")
        if instrument == "refused":  # PayPal's risk checks: the order stays approved
            return error(422, "UNPROCESSABLE_ENTITY", "TRANSACTION_REFUSED")
        if instrument == "declined":
            order["status"] = "PAYER_ACTION_REQUIRED"
            href = f"{self.base}/checkoutnow?token={order_id}{self.decline_link_suffix}"
            link = {"href": href, "rel": "redirect"}
            return error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED", links=[link])
        unit = order["purchase_units"][0]
        related = {"supplementary_data": {"related_ids": {"order_id": order_id}}}
        if verb == "capture":
            status = {"ok": "COMPLETED", "pending": "PENDING", "denied": "DECLINED"}[instrument]
            capture_id = new_id("CAP")
            self.captures[capture_id] = {
                "id": capture_id,
                "status": status,
                "amount": copy.deepcopy(unit["amount"]),
                "custom_id": unit.get("custom_id", ""),
                "invoice_id": unit.get("invoice_id", ""),
                "final_capture": True,
                "create_time": now_iso(),
                "links": self._links("captures", capture_id),
                **related,
                "order_id": order_id,
            }
        else:
            status = "DENIED" if instrument == "denied" else "CREATED"
            auth_id = new_id("AUT")
            self.authorizations[auth_id] = {
                "id": auth_id,
                "status": status,
                "amount": copy.deepcopy(unit["amount"]),
                "custom_id": unit.get("custom_id", ""),
                "create_time": now_iso(),
                "links": self._links("authorizations", auth_id),
                **related,
                "order_id": order_id,
            }
        order["status"] = "COMPLETED"
        return 201, self._order_view(order)

    def capture_authorization(self, auth_id: str, body: dict) -> tuple[int, dict]:
        auth = self.authorizations.get(auth_id)
        if auth is None:
            return not_found()
        if auth["status"] == "VOIDED":
            return error(422, "UNPROCESSABLE_ENTITY", "AUTHORIZATION_VOIDED")
        if auth["status"] == "CAPTURED":
            return error(422, "UNPROCESSABLE_ENTITY", "AUTHORIZATION_ALREADY_CAPTURED")
        amount = body.get("amount") or auth["amount"]
        if Decimal(amount["value"]) > Decimal(auth["amount"]["value"]):
            return error(422, "UNPROCESSABLE_ENTITY", "MAX_CAPTURE_AMOUNT_EXCEEDED")
        capture_id = new_id("CAP")
        self.captures[capture_id] = {
            "id": capture_id,
            "status": "COMPLETED",
            "amount": {"currency_code": auth["amount"]["currency_code"], "value": amount["value"]},
            "custom_id": auth.get("custom_id", ""),
            "final_capture": True,
            "create_time": now_iso(),
            "links": self._links(
                "captures", capture_id, self._links("authorizations", auth_id)[0]["href"]
            ),
            "supplementary_data": auth["supplementary_data"],
            "order_id": auth["order_id"],
        }
        auth["status"] = "CAPTURED"
        return 201, self._public(self.captures[capture_id])

    def void_authorization(self, auth_id: str) -> tuple[int, dict]:
        auth = self.authorizations.get(auth_id)
        if auth is None:
            return not_found()
        if auth["status"] != "CREATED":
            return error(422, "UNPROCESSABLE_ENTITY", "PREVIOUSLY_CAPTURED_OR_VOIDED")
        auth["status"] = "VOIDED"
        return 200, self._public(auth)

    def _refund(self, capture: dict, body: dict, *, reversal=False) -> dict:
        currency = capture["amount"]["currency_code"]
        refund_id = new_id("REF")
        self.refunds[refund_id] = {
            "id": refund_id,
            "status": "COMPLETED",
            "amount": {"currency_code": currency, "value": body["amount"]["value"]},
            "custom_id": body.get("custom_id", ""),
            "invoice_id": body.get("invoice_id", ""),
            "note_to_payer": "Chargeback" if reversal else "",
            "create_time": now_iso(),
            "links": self._links(
                "refunds", refund_id, self._links("captures", capture["id"])[0]["href"]
            ),
            "capture_id": capture["id"],
        }
        refunded = sum(
            Decimal(r["amount"]["value"])
            for r in self.refunds.values()
            if r["capture_id"] == capture["id"]
        )
        full = refunded >= Decimal(capture["amount"]["value"])
        capture["status"] = "REFUNDED" if full else "PARTIALLY_REFUNDED"
        return self._public(self.refunds[refund_id])

    def refund_capture(self, capture_id: str, body: dict) -> tuple[int, dict]:
        capture = self.captures.get(capture_id)
        if capture is None:
            return not_found()
        refunded = sum(
            Decimal(r["amount"]["value"])
            for r in self.refunds.values()
            if r["capture_id"] == capture_id
        )
        if refunded + Decimal(body["amount"]["value"]) > Decimal(capture["amount"]["value"]):
            return error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED")
        return 201, self._refund(capture, body)

    def transactions(self, query: dict) -> tuple[int, dict]:
        details = []
        for capture in self.captures.values():
            details.append(self._transaction(capture, "T0006", capture["id"], ""))
        for refund in self.refunds.values():
            # T1106: a reversal PayPal made (a chargeback); T1107: a refund the merchant made.
            code = "T1106" if refund["note_to_payer"] == "Chargeback" else "T1107"
            details.append(self._transaction(refund, code, refund["id"], refund["capture_id"]))
        return 200, {"transaction_details": details, "total_pages": 1, "page": 1}

    @staticmethod
    def _transaction(obj, code, transaction_id, reference_id):
        info = {
            "transaction_id": transaction_id,
            "transaction_event_code": code,
            "transaction_initiation_date": obj["create_time"],
            "transaction_amount": obj["amount"],
            "transaction_status": "S",
            "custom_field": obj.get("custom_id", ""),
        }
        if reference_id:
            info["paypal_reference_id"] = reference_id
        return {"transaction_info": info}

    def verify(self, body: dict) -> tuple[int, dict]:
        issued = self.signed.get(body.get("transmission_id", ""))
        event = body.get("webhook_event") or {}
        ok = (
            body.get("webhook_id") == WEBHOOK_ID
            and issued == f"{body.get('transmission_sig')}:{event.get('id')}"
        )
        return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}

    # -- routing ----------------------------------------------------------------

    def handle(self, method, path, query, body, request_id, authorization):
        with self.lock:
            self.requests.append((method, path, request_id or ""))
            if path == "/v1/oauth2/token":
                expected = base64.b64encode(b"fake-client-id:fake-client-secret").decode()
                if authorization != f"Basic {expected}" or body.get("grant_type") != (
                    "client_credentials"
                ):
                    return 401, {"error": "invalid_client"}
                self.token_requests += 1
                token = new_id("A21AA")
                self.tokens.add(token)
                return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 32400}
            if authorization.removeprefix("Bearer ") not in self.tokens:
                return 401, {"error": "invalid_token", "error_description": "expired"}
            if self.fail_gets_with_500 and method == "GET":
                return error(500, "INTERNAL_SERVER_ERROR", "INTERNAL_SERVICE_ERROR")
            if self.fail_next_with_500:
                self.fail_next_with_500 -= 1
                return error(500, "INTERNAL_SERVER_ERROR", "INTERNAL_SERVICE_ERROR")
            if method == "POST" and request_id and (path, request_id) in self.replays:
                return self.replays[(path, request_id)]
            answer = self.route(method, path, query, body)
            if method == "POST" and request_id and answer[0] < 500:
                self.replays[(path, request_id)] = answer
            return answer

    def route(self, method, path, query, body):
        parts = path.strip("/").split("/")
        if path == "/v2/checkout/orders" and method == "POST":
            return self.create_order(body)
        if parts[:3] == ["v2", "checkout", "orders"] and len(parts) >= 4:
            if len(parts) == 5 and method == "POST":
                return self._settle_order(parts[3], parts[4])
            order = self.orders.get(parts[3])
            return (200, self._order_view(order)) if order else not_found()
        if parts[:2] == ["v2", "payments"] and len(parts) >= 4:
            kind, object_id = parts[2], parts[3]
            if len(parts) == 5 and method == "POST":
                action = (kind, parts[4])
                if action == ("authorizations", "capture"):
                    return self.capture_authorization(object_id, body)
                if action == ("authorizations", "void"):
                    return self.void_authorization(object_id)
                if action == ("captures", "refund"):
                    return self.refund_capture(object_id, body)
            table = {
                "captures": self.captures,
                "authorizations": self.authorizations,
                "refunds": self.refunds,
            }.get(kind, {})
            obj = table.get(object_id)
            return (200, self._public(obj)) if obj else not_found()
        if parts[:3] == ["v1", "customer", "disputes"] and len(parts) == 4:
            dispute = self.disputes.get(parts[3])
            return (200, copy.deepcopy(dispute)) if dispute else not_found()
        if path == "/v1/reporting/transactions":
            return self.transactions(query)
        if path == "/v1/notifications/verify-webhook-signature":
            return self.verify(body)
        return not_found("UNKNOWN_PATH")


class _Handler(BaseHTTPRequestHandler):
    fake: FakePayPal

    def log_message(self, *args):
        pass

    def _serve(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        try:
            body = json.loads(raw) if raw and raw[0] == "{" else dict(parse_qsl(raw))
        except ValueError:
            body = {}
        if self.fake.delay_seconds:
            time.sleep(self.fake.delay_seconds)
        status, payload = self.fake.handle(
            method,
            url.path,
            dict(parse_qsl(url.query)),
            body,
            self.headers.get("PayPal-Request-Id"),
            self.headers.get("Authorization", ""),
        )
        with self.fake.lock:
            drop = method == "POST" and self.fake.drop_next_post and url.path != "/v1/oauth2/token"
            if drop:
                self.fake.drop_next_post -= 1
        if drop:
            self.close_connection = True
            self.connection.close()  # PayPal acted, but the answer never arrives
            return
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Paypal-Debug-Id", new_id("dbg"))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")


def start_fake_paypal() -> tuple[FakePayPal, ThreadingHTTPServer]:
    """Start the fake on an ephemeral port; return it and its server."""
    fake = FakePayPal()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server

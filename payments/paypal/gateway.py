"""PayPal Orders v2: an order the buyer approves, then our capture or authorization of it.

Every write carries PayPal-Request-Id set to our operation's idempotency key, so a retry after
a timeout gets PayPal's first answer. Amounts cross this edge as decimal strings in the
currency's own decimals.
"""

import hashlib

from django.conf import settings

from gamarriando.money import CURRENCY_EXPONENTS
from payments.gateways.base import (
    FailureCode,
    Gateway,
    GatewayResult,
    GatewayStatus,
    InvalidPaymentToken,
)
from payments.paypal import client
from payments.paypal.client import PayPalError
from payments.paypal.results import (
    MAX_TOKEN_LENGTH,
    PAYPAL_CURRENCIES,
    approve_link,
    failed_result,
    money,
    result_from_capture,
    result_from_order,
    result_from_refund,
)


class PayPalGateway(Gateway):
    """PayPal Orders v2 with buyer approval, intent CAPTURE or AUTHORIZE."""

    name = "paypal"
    # PayPal takes neither PEN nor CLP (its list of currency codes); the rest of ours it does.
    currencies = tuple(c for c in CURRENCY_EXPONENTS if c in PAYPAL_CURRENCIES)
    resumes_on_process = True
    refunds_by_capture = True

    takes_token = False

    def validate_token(self, token: str) -> None:
        # No card or token comes from the storefront: the buyer approves at PayPal.
        if len(token) > MAX_TOKEN_LENGTH or not (token == "" or token.isalnum()):
            raise InvalidPaymentToken(
                "PayPal needs no payment_method_id; send none, or the order id."
            )

    def charge(
        self,
        *,
        token,
        amount,
        currency,
        capture,
        idempotency_key,
        return_url="",
        metadata=None,
        customer=None,
    ):
        self.assert_outside_transaction()
        metadata = metadata or {}
        context = {"user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING"}
        if return_url or settings.PAYPAL_RETURN_URL:
            context["return_url"] = return_url or settings.PAYPAL_RETURN_URL
        if settings.PAYPAL_CANCEL_URL:
            context["cancel_url"] = settings.PAYPAL_CANCEL_URL
        body = {
            "intent": "CAPTURE" if capture else "AUTHORIZE",
            "purchase_units": [
                {
                    "reference_id": "default",
                    "custom_id": str(metadata.get("payment_id", "")),
                    "invoice_id": idempotency_key,
                    "amount": money(amount, currency),
                }
            ],
            "payment_source": {"paypal": {"experience_context": context}},
        }
        try:
            order = client.call(
                "POST", "/v2/checkout/orders", body=body, request_id=idempotency_key
            )
        except PayPalError as exc:
            return failed_result(exc)
        return result_from_order(order)

    def complete_approved(self, *, order_id: str, idempotency_key: str) -> GatewayResult:
        """Read the order; once the buyer approved it, capture or authorize it (once, by key)."""
        self.assert_outside_transaction()
        try:
            order = self.order(order_id)
        except PayPalError as exc:
            if exc.status == 404:  # expired unapproved, or never ours: nothing was taken
                return GatewayResult(
                    status=GatewayStatus.FAILED,
                    reference=order_id,
                    failure_code=FailureCode.CANCELED,
                    failure_message="The PayPal order expired before the buyer approved it.",
                    raw={"order_id": order_id, "status": "EXPIRED"},
                )
            return failed_result(exc)
        if order.get("status") != "APPROVED":
            return result_from_order(order)
        verb = "authorize" if order.get("intent") == "AUTHORIZE" else "capture"
        # One key per approval: racing callers share it (one capture), while a buyer who
        # approves again after INSTRUMENT_DECLINED gets a fresh try instead of the replayed decline.
        approval = hashlib.sha256(str(order.get("update_time", "")).encode()).hexdigest()[:12]
        try:
            done = client.call(
                "POST",
                f"/v2/checkout/orders/{order_id}/{verb}",
                body={},
                request_id=f"{idempotency_key}-{verb}-{approval}",
            )
        except PayPalError as exc:
            if exc.issue == "INSTRUMENT_DECLINED":
                # PayPal's prescription: send the buyer back to choose another funding source.
                return GatewayResult(
                    status=GatewayStatus.REQUIRES_ACTION,
                    reference=order_id,
                    failure_code=FailureCode.CARD_DECLINED,
                    next_action={
                        "type": "redirect_to_url",
                        "url": approve_link(exc.body) or approve_link(order),
                    },
                    raw={"order_id": order_id, "error": exc.issue},
                )
            if exc.status == 422:
                current = self.order(order_id)
                if current.get("status") != "APPROVED":
                    return result_from_order(current)  # a racing call captured or authorized it
            # Refused with the order still approved (TRANSACTION_REFUSED, PAYER_CANNOT_PAY, ...):
            # the attempt fails, or every later call would send the same refused capture.
            return failed_result(exc)
        return result_from_order(done)

    def capture(self, *, reference, amount, currency, idempotency_key):
        self.assert_outside_transaction()
        try:
            answer = client.call(
                "POST",
                f"/v2/payments/authorizations/{reference}/capture",
                body={"amount": money(amount, currency), "final_capture": True},
                request_id=idempotency_key,
            )
        except PayPalError as exc:
            return failed_result(exc)
        return result_from_capture(answer)

    def void(self, *, reference, idempotency_key):
        self.assert_outside_transaction()
        try:
            client.call(
                "POST", f"/v2/payments/authorizations/{reference}/void", request_id=idempotency_key
            )
        except PayPalError as exc:
            return failed_result(exc)
        return GatewayResult(
            status=GatewayStatus.SUCCEEDED,
            reference=f"{reference}:void",
            raw={"authorization": {"id": reference, "status": "VOIDED"}},
        )

    def refund(self, *, reference, amount, currency, idempotency_key, metadata=None):
        self.assert_outside_transaction()
        body = {
            "amount": money(amount, currency),
            "custom_id": str((metadata or {}).get("transaction_id", "")),
            "invoice_id": idempotency_key,
        }
        try:
            answer = client.call(
                "POST",
                f"/v2/payments/captures/{reference}/refund",
                body=body,
                request_id=idempotency_key,
            )
        except PayPalError as exc:
            return failed_result(exc)
        return result_from_refund(answer)

    def retrieve(self, *, operation, idempotency_key, reference=""):
        """Read an order or refund we know; anything else is sent again under the same key."""
        self.assert_outside_transaction()
        if operation in ("charge", "authorization") and reference:
            return self.complete_approved(order_id=reference, idempotency_key=idempotency_key)
        if operation == "refund" and reference:
            try:
                return result_from_refund(client.call("GET", f"/v2/payments/refunds/{reference}"))
            except PayPalError as exc:
                return failed_result(exc)
        return None  # PayPal replays the first answer to the same PayPal-Request-Id

    # -- reads used by webhooks and reconciliation ------------------------------

    def order(self, order_id: str) -> dict:
        """Fetch an order (with its captures, authorizations and refunds)."""
        self.assert_outside_transaction()
        return client.call("GET", f"/v2/checkout/orders/{order_id}")

    def read(self, kind: str, object_id: str) -> dict:
        """Fetch a capture, authorization or refund (`kind` is its path segment)."""
        self.assert_outside_transaction()
        return client.call("GET", f"/v2/payments/{kind}/{object_id}")

    def dispute(self, dispute_id: str) -> dict:
        """Fetch a dispute as PayPal's Disputes API shows it now."""
        self.assert_outside_transaction()
        return client.call("GET", f"/v1/customer/disputes/{dispute_id}")

    def transactions_since(self, start_iso: str, end_iso: str) -> list[dict]:
        """List PayPal's transactions (captures and refunds) between two instants."""
        self.assert_outside_transaction()
        found, page = [], 1
        while True:
            answer = client.call(
                "GET",
                f"/v1/reporting/transactions?start_date={start_iso}&end_date={end_iso}"
                f"&fields=transaction_info&page_size=500&page={page}",
            )
            found.extend(answer.get("transaction_details") or [])
            if page >= int(answer.get("total_pages") or 1):
                return found
            page += 1

    def verify_webhook(self, *, headers: dict, event: dict) -> bool:
        """Ask PayPal whether a webhook's signature is valid for our webhook id."""
        self.assert_outside_transaction()
        answer = client.call(
            "POST",
            "/v1/notifications/verify-webhook-signature",
            body={**headers, "webhook_id": settings.PAYPAL_WEBHOOK_ID, "webhook_event": event},
        )
        return answer.get("verification_status") == "SUCCESS"

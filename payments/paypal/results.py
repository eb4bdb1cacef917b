"""PayPal's objects (orders, captures, refunds) read as our GatewayResult; amounts as PayPal wants."""

from gamarriando.money import format_amount
from payments.gateways.base import FailureCode, GatewayResult, GatewayStatus
from payments.paypal.client import PayPalError

AWAITING_BUYER = {"CREATED", "SAVED", "PAYER_ACTION_REQUIRED"}
CAPTURE_STATUS = {
    "COMPLETED": GatewayStatus.SUCCEEDED,
    "PARTIALLY_REFUNDED": GatewayStatus.SUCCEEDED,
    "REFUNDED": GatewayStatus.SUCCEEDED,
    "PENDING": GatewayStatus.PENDING,
    "DECLINED": GatewayStatus.FAILED,
    "FAILED": GatewayStatus.FAILED,
}
AUTHORIZATION_STATUS = {
    "CREATED": GatewayStatus.SUCCEEDED,
    "CAPTURED": GatewayStatus.SUCCEEDED,
    "PARTIALLY_CAPTURED": GatewayStatus.SUCCEEDED,
    "VOIDED": GatewayStatus.SUCCEEDED,  # it was authorized; the void is its own ledger row
    "PENDING": GatewayStatus.PENDING,
    "DENIED": GatewayStatus.FAILED,
    "EXPIRED": GatewayStatus.FAILED,
}
REFUND_STATUS = {
    "COMPLETED": GatewayStatus.SUCCEEDED,
    "PENDING": GatewayStatus.PENDING,
    "FAILED": GatewayStatus.FAILED,
    "CANCELLED": GatewayStatus.FAILED,
}
PAYPAL_CURRENCIES = frozenset(
    [
        "AUD",
        "BRL",
        "CAD",
        "CNY",
        "CZK",
        "DKK",
        "EUR",
        "HKD",
        "HUF",
        "ILS",
        "JPY",
        "MYR",
        "MXN",
        "TWD",
        "NZD",
        "NOK",
        "PHP",
        "PLN",
        "GBP",
        "SGD",
        "SEK",
        "CHF",
        "THB",
        "USD",
    ]
)
# PayPal's order ids are 17 upper-case letters and digits; the storefront may echo one back.
MAX_TOKEN_LENGTH = 36


def money(amount, currency: str) -> dict:
    """Render an amount as PayPal wants it: a decimal string in the currency's own decimals."""
    return {"currency_code": currency, "value": format_amount(amount, currency)}


def approve_link(obj: dict) -> str:
    """Return the link the buyer follows to approve (or re-approve) an order."""
    for link in obj.get("links") or []:
        if link.get("rel") in ("payer-action", "approve", "redirect"):
            return link.get("href", "")
    return ""


def _payments(order: dict) -> dict:
    units = order.get("purchase_units") or [{}]
    return units[0].get("payments") or {}


def failed_result(exc: PayPalError) -> GatewayResult:
    code = FailureCode.RESOURCE_MISSING if exc.status == 404 else exc.issue.lower()[:64]
    if exc.issue in ("INSTRUMENT_DECLINED", "PAYER_CANNOT_PAY", "TRANSACTION_REFUSED"):
        code = FailureCode.CARD_DECLINED
    return GatewayResult(
        status=GatewayStatus.FAILED,
        failure_code=code,
        failure_message=str(exc.body.get("message", exc.issue))[:255],
        raw={"error": exc.issue, "debug_id": exc.body.get("debug_id", "")},
    )


def result_from_order(order: dict) -> GatewayResult:
    """Map an order to the result of our attempt (charge or authorization) on it."""
    status, order_id = order.get("status", ""), order["id"]
    raw = {"order_id": order_id, "status": status, "intent": order.get("intent", "")}
    if status in AWAITING_BUYER or status == "APPROVED":
        return GatewayResult(
            status=GatewayStatus.REQUIRES_ACTION,
            reference=order_id,
            next_action={"type": "redirect_to_url", "url": approve_link(order)},
            raw=raw,
        )
    if status == "VOIDED":
        return GatewayResult(
            status=GatewayStatus.FAILED,
            reference=order_id,
            failure_code=FailureCode.CANCELED,
            failure_message="The PayPal order was voided.",
            raw=raw,
        )
    payments = _payments(order)
    kind, table = ("captures", CAPTURE_STATUS)
    if order.get("intent") == "AUTHORIZE":
        kind, table = ("authorizations", AUTHORIZATION_STATUS)
    made = payments.get(kind) or []
    if not made:
        return GatewayResult(status=GatewayStatus.PENDING, reference=order_id, raw=raw)
    first = made[0]
    result_status = table.get(first.get("status", ""), GatewayStatus.PENDING)
    return GatewayResult(
        status=result_status,
        reference=first["id"],
        failure_code=FailureCode.CARD_DECLINED if result_status == GatewayStatus.FAILED else "",
        failure_message="PayPal declined the payment."
        if result_status == GatewayStatus.FAILED
        else "",
        raw={**raw, kind[:-1]: {"id": first["id"], "status": first.get("status")}},
    )


def result_from_capture(capture: dict) -> GatewayResult:
    """Map a capture of an authorization to the result of our capture row."""
    status = CAPTURE_STATUS.get(capture.get("status", ""), GatewayStatus.PENDING)
    return GatewayResult(
        status=status,
        reference=capture["id"],
        failure_code=FailureCode.CARD_DECLINED if status == GatewayStatus.FAILED else "",
        raw={"capture": {"id": capture["id"], "status": capture.get("status")}},
    )


def result_from_refund(refund: dict) -> GatewayResult:
    """Map a refund to the result of our refund row."""
    status = REFUND_STATUS.get(refund.get("status", ""), GatewayStatus.PENDING)
    return GatewayResult(
        status=status,
        reference=refund["id"],
        failure_code="refund_failed" if status == GatewayStatus.FAILED else "",
        raw={"refund": {"id": refund["id"], "status": refund.get("status")}},
    )

"""The simulated gateway: deterministic test tokens, Stripe-like idempotency, a record of calls."""

import hashlib
import random
import time
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Sum

from gamarriando.money import CURRENCY_EXPONENTS
from payments.gateways.base import (
    FailureCode,
    Gateway,
    GatewayResult,
    GatewayStatus,
    GatewayTimeout,
    GatewayUnavailable,
    InvalidPaymentToken,
)
from payments.models import SimulatedGatewayOperation

TOKENS = {
    "tok_success": (GatewayStatus.SUCCEEDED, ""),
    "tok_declined": (GatewayStatus.FAILED, FailureCode.CARD_DECLINED),
    "tok_insufficient_funds": (GatewayStatus.FAILED, FailureCode.INSUFFICIENT_FUNDS),
    "tok_requires_action": (GatewayStatus.REQUIRES_ACTION, ""),
    "tok_gateway_error": ("unavailable", ""),
    "tok_timeout": ("timeout", ""),
}
MESSAGES = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "amount_too_large": "The refund exceeds what is left on the charge.",
    "resource_missing": "The gateway has no such charge.",
}


def _reference(prefix: str, key: str) -> str:
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class SimulatedGateway(Gateway):
    """A gateway that keeps its state in its own table, so every process sees the same truth."""

    name = "simulated"
    currencies = tuple(CURRENCY_EXPONENTS)

    @property
    def decline_rate(self) -> float:
        return settings.SIMULATED_GATEWAY_DECLINE_RATE

    @property
    def latency_ms(self) -> int:
        return settings.SIMULATED_GATEWAY_LATENCY_MS

    def validate_token(self, token: str) -> None:
        if token not in TOKENS:
            raise InvalidPaymentToken(f"Unknown simulated token {token!r}.")

    def _pause(self) -> None:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)

    @staticmethod
    def _result(op: SimulatedGatewayOperation) -> GatewayResult:
        next_action = None
        if op.status == GatewayStatus.REQUIRES_ACTION:
            url = f"https://simulated.invalid/3ds/{op.reference}"
            # `url` at the top as PayPal's redirect has it, and nested as Stripe's has it.
            next_action = {"type": "redirect_to_url", "url": url, "redirect_to_url": {"url": url}}
        return GatewayResult(
            status=op.status,
            reference=op.reference,
            failure_code=op.failure_code,
            failure_message=MESSAGES.get(op.failure_code, ""),
            next_action=next_action,
            raw={"id": op.reference, "object": op.kind, "status": op.status, "simulated": True},
        )

    def _record_operation(self, **fields) -> SimulatedGatewayOperation:
        """Store an operation once per key; a repeated key gets the first outcome back.

        Gateway calls run outside any transaction (assert_outside_transaction), so the INSERT
        commits on its own and a duplicate key fails alone: one round trip, no savepoint.
        """
        try:
            return SimulatedGatewayOperation.objects.create(**fields)
        except IntegrityError:
            return SimulatedGatewayOperation.objects.get(idempotency_key=fields["idempotency_key"])

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
        self.validate_token(token)
        self._pause()
        outcome, failure_code = TOKENS[token]
        if outcome == "unavailable":
            raise GatewayUnavailable("simulated gateway error")
        if (
            outcome == GatewayStatus.SUCCEEDED
            and self.decline_rate
            and random.random() < self.decline_rate
        ):
            outcome, failure_code = GatewayStatus.FAILED, FailureCode.CARD_DECLINED
        status = outcome
        if outcome == "timeout":
            status = GatewayStatus.SUCCEEDED  # it charged, but the answer never arrives
        kind = "charge" if capture else "authorization"
        # A repeated key gets the first outcome (the insert finds it), whatever was drawn now.
        op = self._record_operation(
            idempotency_key=idempotency_key,
            kind=kind,
            token=token,
            amount=amount,
            currency=currency,
            status=status,
            reference=_reference("sim_ch", idempotency_key),
            failure_code=failure_code,
        )
        if op.token == "tok_timeout":
            raise GatewayTimeout("simulated timeout")
        return self._result(op)

    def _follow_up(
        self, *, kind, reference, amount, currency, idempotency_key, allowed
    ) -> GatewayResult:
        self.assert_outside_transaction()
        self._pause()
        existing = SimulatedGatewayOperation.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return self._result(existing)
        status, failure_code = GatewayStatus.SUCCEEDED, ""
        if allowed is None:  # like Stripe's resource_missing: no such charge here
            status, failure_code = GatewayStatus.FAILED, FailureCode.RESOURCE_MISSING
        elif amount > allowed:
            status, failure_code = GatewayStatus.FAILED, FailureCode.AMOUNT_TOO_LARGE
        op = self._record_operation(
            idempotency_key=idempotency_key,
            kind=kind,
            amount=amount,
            currency=currency,
            status=status,
            reference=_reference(f"sim_{kind[:2]}", idempotency_key),
            charge_reference=reference,
            failure_code=failure_code,
        )
        return self._result(op)

    def _charge_op(self, reference: str) -> SimulatedGatewayOperation | None:
        return SimulatedGatewayOperation.objects.filter(
            reference=reference, kind__in=["charge", "authorization"]
        ).first()

    def _done(self, reference: str, kind: str) -> Decimal:
        total = SimulatedGatewayOperation.objects.filter(
            charge_reference=reference, kind=kind, status=GatewayStatus.SUCCEEDED
        )
        return total.aggregate(total=Sum("amount"))["total"] or Decimal("0")

    def capture(self, *, reference, amount, currency, idempotency_key):
        charge = self._charge_op(reference)
        allowed = None if charge is None else charge.amount - self._done(reference, "capture")
        return self._follow_up(
            kind="capture",
            reference=reference,
            amount=amount,
            currency=currency,
            idempotency_key=idempotency_key,
            allowed=allowed,
        )

    def void(self, *, reference, idempotency_key):
        charge = self._charge_op(reference)
        amount = charge.amount if charge else Decimal("0")
        return self._follow_up(
            kind="void",
            reference=reference,
            amount=amount,
            currency=charge.currency if charge else "",
            idempotency_key=idempotency_key,
            allowed=None if charge is None else amount,
        )

    def refund(self, *, reference, amount, currency, idempotency_key, metadata=None):
        charge = self._charge_op(reference)
        allowed = None
        if charge is not None:
            captured = (
                charge.amount if charge.kind == "charge" else self._done(reference, "capture")
            )
            allowed = captured - self._done(reference, "refund")
        return self._follow_up(
            kind="refund",
            reference=reference,
            amount=amount,
            currency=currency,
            idempotency_key=idempotency_key,
            allowed=allowed,
        )

    abandons_attempts = True

    def abandon(self, *, reference, idempotency_key):
        """End an attempt that waits for the buyer; one that finished first keeps its outcome."""
        self.assert_outside_transaction()
        SimulatedGatewayOperation.objects.filter(
            reference=reference, status=GatewayStatus.REQUIRES_ACTION
        ).update(status=GatewayStatus.FAILED, failure_code=FailureCode.CANCELED)
        charge = self._charge_op(reference)
        return None if charge is None else self._result(charge)

    def retrieve(self, *, operation, idempotency_key, reference=""):
        self.assert_outside_transaction()
        op = SimulatedGatewayOperation.objects.filter(idempotency_key=idempotency_key).first()
        return None if op is None else self._result(op)

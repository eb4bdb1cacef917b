"""The gateway interface, its one result type and its errors."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from django.db import connection


class GatewayStatus(StrEnum):
    """What a gateway said about one operation."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"
    PENDING = "pending"


class FailureCode(StrEnum):
    """The failure codes a payment or ledger row can end with (the contract's `failure_code`)."""

    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    GATEWAY_ERROR = "gateway_error"
    RESOURCE_MISSING = "resource_missing"
    AMOUNT_TOO_LARGE = "amount_too_large"
    CANCELED = "canceled"
    HOLD_EXPIRED = "hold_expired"  # a store-credit hold that nobody settled in time


@dataclass(frozen=True)
class GatewayResult:
    """What a gateway said about one operation."""

    status: GatewayStatus
    reference: str = ""  # the gateway's id of this operation (charge, refund, ...)
    failure_code: str = ""
    failure_message: str = ""
    next_action: dict | None = None
    raw: dict = field(default_factory=dict)  # kept for staff; never secrets or card data
    latency_ms: int | None = None  # measured around the call by the caller, for the dashboard
    wallet: str = ""  # the paying method's wallet (apple_pay, google_pay), when the gateway says


class GatewayRetryableError(Exception):
    """The call may be repeated with the same idempotency key."""


class GatewayUnavailable(GatewayRetryableError):
    """The gateway refused or failed before doing anything (5xx, connection refused)."""


class GatewayTimeout(GatewayRetryableError):
    """The outcome is unknown: the gateway may or may not have acted."""


class InvalidPaymentToken(Exception):
    """The storefront's token is not one the gateway accepts."""


class Gateway(ABC):
    """One payment provider. Every call takes an idempotency key and runs outside transactions."""

    name: str = ""
    supports_authorize: bool = True
    supports_refund: bool = True
    currencies: tuple[str, ...] = ()
    # The buyer approves at the gateway; `process` again finishes the same attempt (PayPal).
    resumes_on_process: bool = False
    # Refunds name the capture, not the payment's authorization or order (PayPal).
    refunds_by_capture: bool = False
    # The storefront sends a token (or a saved method) to process; PayPal and the wallet take none.
    takes_token: bool = True
    # An attempt waiting for the buyer can be called off at the gateway (abandon). PayPal has
    # no such call: an approval that arrives after its order was cancelled is captured, then
    # refunded, as any success on a cancelled order is.
    abandons_attempts: bool = False

    @staticmethod
    def assert_outside_transaction() -> None:
        """Refuse to make a network call while a database transaction is open."""
        if connection.in_atomic_block:
            raise RuntimeError("Gateway calls must run outside any database transaction.")

    @abstractmethod
    def validate_token(self, token: str) -> None:
        """Raise InvalidPaymentToken unless the token can be charged."""

    @abstractmethod
    def charge(
        self,
        *,
        token: str,
        amount: Decimal,
        currency: str,
        capture: bool,
        idempotency_key: str,
        return_url: str = "",
        metadata: dict | None = None,
        customer=None,
    ) -> GatewayResult:
        """Charge (capture=True) or authorize a payment method."""

    @abstractmethod
    def capture(
        self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult:
        """Capture all or part of an authorization."""

    @abstractmethod
    def void(self, *, reference: str, idempotency_key: str) -> GatewayResult:
        """Release an authorization."""

    @abstractmethod
    def refund(
        self,
        *,
        reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict | None = None,
    ) -> GatewayResult:
        """Refund all or part of a captured charge."""

    @abstractmethod
    def retrieve(
        self, *, operation: str, idempotency_key: str, reference: str = ""
    ) -> GatewayResult | None:
        """Ask what happened to an operation; None when the gateway never saw it."""

    def abandon(self, *, reference: str, idempotency_key: str) -> GatewayResult | None:
        """Call off an attempt that waits for the buyer; return what became of it (None: unknown)."""
        raise NotImplementedError(f"{self.name} cannot call off an attempt.")

    def describe(self) -> dict:
        """Return the public description used by GET /payment-methods."""
        return {
            "name": self.name,
            "supports_authorize": self.supports_authorize,
            "supports_refund": self.supports_refund,
            "currencies": list(self.currencies),
        }

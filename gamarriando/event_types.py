"""The names of the domain events the outbox carries, so that grep finds every publisher."""

from enum import StrEnum


class EventType(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_PROCESSING = "order.processing"
    ORDER_SHIPPED = "order.shipped"
    ORDER_DELIVERED = "order.delivered"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_EXPIRED = "order.expired"
    ORDER_REFUNDED = "order.refunded"
    PAYMENT_CREATED = "payment.created"
    PAYMENT_AUTHORIZED = "payment.authorized"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_REQUIRES_ACTION = "payment.requires_action"
    PAYMENT_CANCELLED = "payment.cancelled"
    PAYMENT_VOIDED = "payment.voided"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    WALLET_FUNDS_RESERVED = "wallet.funds_reserved"
    WALLET_RESERVATION_FAILED = "wallet.reservation_failed"
    WALLET_FUNDS_DEDUCTED = "wallet.funds_deducted"
    WALLET_FUNDS_RELEASED = "wallet.funds_released"

    @classmethod
    def for_order_status(cls, status: str) -> "EventType":
        """Return the event that reports an order's move to this status."""
        return cls(f"order.{status}")

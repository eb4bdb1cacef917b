"""Celery tasks of orders."""

from celery import shared_task

from orders import services


@shared_task(name="orders.expire_unpaid_orders")
def expire_unpaid_orders() -> int:
    """Cancel pending orders past ORDER_PAYMENT_TTL_MINUTES and release their stock."""
    return services.order_expire_unpaid()

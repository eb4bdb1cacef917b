"""Every write to the catalog and orders: create, update, transitions, cancel, expiry."""

import secrets
from collections import OrderedDict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Min
from django.utils import timezone

from gamarriando import events, idempotency, money
from gamarriando.compiled import Lookup
from gamarriando.errors import (
    OutOfStock,
    PermissionDeniedError,
    PriceChanged,
    field_error,
    invalid_status,
)
from gamarriando.event_types import EventType
from gamarriando.finance_metrics import ORDERS_CREATED
from gamarriando.insert_sql import next_id_sql
from gamarriando.limits import limit_exceeded
from gamarriando.staff_auth.tokens import require_token_second_factor
from orders.models import Order, OrderItem, OrderStatus, OrderStatusHistory, Product
from orders.transitions import CUSTOMER, FULFILMENT, STAFF, SYSTEM, can_transition

STOCK_RELEASING = {OrderStatus.CANCELLED}
EXPIRY_JOB_SECONDS = 60  # orders.expire_unpaid_orders runs every minute (gamarriando/celery.py)


def _order_number() -> str:
    return f"GAM-{timezone.now():%Y%m%d}-{secrets.token_hex(5).upper()}"


def _merge_lines(items: list[dict]) -> "OrderedDict[int, dict]":
    merged: OrderedDict[int, dict] = OrderedDict()
    for line in items:
        entry = merged.setdefault(
            line["product_id"], {"quantity": 0, "unit_price": line.get("unit_price")}
        )
        entry["quantity"] += line["quantity"]
        if line.get("unit_price") is not None:
            entry["unit_price"] = line["unit_price"]
    return merged


def _check_line_quantities(lines: "OrderedDict[int, dict]") -> None:
    most = settings.ORDER_MAX_LINE_QUANTITY
    for product_id, line in lines.items():
        if line["quantity"] > most:
            raise limit_exceeded("line_quantity", product_id=product_id, max=most)


def _lock_user(user) -> int | None:
    """Lock the buyer's row, so two simultaneous orders of one user count each other.

    On PostgreSQL the same statement draws the new order's id, so that every row of the
    order is known before it is written in one statement (events.insert_and_publish);
    elsewhere None.
    """
    if connection.vendor != "postgresql":
        list(type(user).objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        return None
    users = connection.ops.quote_name(type(user)._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # S608: the expression and the table name come from the models' _meta.
            f"SELECT {next_id_sql(Order)} FROM {users} WHERE id = %s FOR UPDATE",  # noqa: S608
            [user.pk],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _products_and_pending(user, product_ids) -> tuple[dict[int, Product], int]:
    """Read the ordered products and count the user's pending orders in one statement, unlocked.

    The count runs after _lock_user, so its snapshot sees every order committed by a
    transaction that held the user's lock before this one.
    """
    # Written by hand: building and compiling the ORM's filter with an annotated subquery
    # cost more than the statement takes to run (docs/benchmarks.md, rounds 3 and 7).
    ids = list(product_ids)
    quote = connection.ops.quote_name
    orders, products = quote(Order._meta.db_table), quote(Product._meta.db_table)
    sql = (
        # S608: the SQL is built from the models' table names only; values are bound.
        "SELECT id, price, currency, stock, is_active, "  # noqa: S608
        f"(SELECT count(*) FROM {orders} WHERE user_id = %s AND status = %s) AS pending_count "
        f"FROM {products} WHERE id IN ({', '.join(['%s'] * len(ids))})"
    )
    params = [user.pk, OrderStatus.PENDING, *ids]
    found = {p.pk: p for p in Product.objects.raw(sql, params)} if ids else {}
    if found:
        return found, next(iter(found.values())).pending_count
    # No product matched: the order fails on its lines, but the limit is still checked first.
    return found, _pending_orders(user).count()


def _pending_orders(user):
    return Order.objects.filter(user=user, status=OrderStatus.PENDING)


def _check_pending_orders(user, count: int) -> None:
    """Refuse another order while the user holds the most pending ones allowed (they hold stock)."""
    most = settings.ORDER_MAX_PENDING_PER_USER
    if count >= most:
        resets_at = _pending_orders(user).aggregate(first=Min("expires_at"))["first"]
        if resets_at is not None and resets_at <= timezone.now():
            # Expired but not yet cancelled: the expiry job (every minute) frees it.
            resets_at = timezone.now() + timedelta(seconds=EXPIRY_JOB_SECONDS)
        raise limit_exceeded("pending_orders", resets_at=resets_at, max=most)


def _check_lines(lines, products: dict[int, Product], currency: str) -> None:
    for product_id, line in lines.items():
        product = products.get(product_id)
        if product is None or not product.is_active:
            raise field_error("items", f"Product {product_id} does not exist or is not for sale.")
        if product.currency != currency:
            raise field_error("items", f"Product {product_id} is not sold in {currency}.")
        if line["unit_price"] is not None and Decimal(line["unit_price"]) != product.price:
            raise PriceChanged(
                details={
                    "product_id": product_id,
                    "price": money.format_amount(product.price, currency),
                }
            )
        if product.stock < line["quantity"]:
            raise OutOfStock(details={"product_id": product_id, "available": product.stock})


def _take_stock(lines) -> None:
    """Decrement stock with one conditional UPDATE per product, in id order, as the last write.

    The row lock lives from this statement to COMMIT only, so buyers of one product wait
    microseconds on each other; zero rows updated means another buyer took the stock first.
    """
    # By hand, as the ORM's update() writes it without building a query (docs/benchmarks.md).
    table = connection.ops.quote_name(Product._meta.db_table)
    sql = f"UPDATE {table} SET stock = stock - %s WHERE id = %s AND stock >= %s"  # noqa: S608
    for product_id in sorted(lines):
        quantity = lines[product_id]["quantity"]
        with connection.cursor() as cursor:
            cursor.execute(sql, [quantity, product_id, quantity])
            taken = cursor.rowcount
        if not taken:
            available = Product.objects.filter(pk=product_id).values_list("stock", flat=True)
            raise OutOfStock(details={"product_id": product_id, "available": available.first()})


def _cache_relations(order: Order, items: list[OrderItem]) -> None:
    """Attach the new order's lines and (no) payments as selectors.attach_details does."""
    order.item_list = items
    order.payment_list = []


def order_create(
    *,
    user,
    items: list[dict],
    shipping_address: dict,
    billing_address: dict | None = None,
    notes: str = "",
    currency: str = money.DEFAULT_CURRENCY,
) -> Order:
    """Price the lines from the catalog, take the stock and open a pending order.

    Raises:
        ValidationFailed: unknown, inactive or foreign-currency product, or a total too large.
        PriceChanged: a client unit_price differs from the catalog.
        OutOfStock: a product has less stock than asked for.
        LimitExceeded: a merged line above ORDER_MAX_LINE_QUANTITY, or the user already holds
            ORDER_MAX_PENDING_PER_USER pending orders.
    """
    lines = _merge_lines(items)
    _check_line_quantities(lines)
    with transaction.atomic(savepoint=not idempotency.owns_transaction()):
        order_id = _lock_user(user)
        products, pending = _products_and_pending(user, lines.keys())
        _check_pending_orders(user, pending)
        _check_lines(lines, products, currency)
        total = sum(
            (products[pid].price * line["quantity"] for pid, line in lines.items()), Decimal("0")
        )
        if total > money.largest_amount(currency):
            largest = money.with_currency(money.largest_amount(currency), currency)
            raise field_error("items", f"The order total must not exceed {largest}.")
        now = timezone.now()
        order = Order(
            id=order_id,
            user=user,
            order_number=_order_number(),
            currency=currency,
            total_amount=money.quantize(total, currency),
            shipping_address=shipping_address,
            billing_address=billing_address or shipping_address,
            notes=notes,
            expires_at=now + timedelta(minutes=settings.ORDER_PAYMENT_TTL_MINUTES),
        )
        order_items = [
            OrderItem(
                order=order,
                product_id=pid,
                quantity=line["quantity"],
                unit_price=products[pid].price,
                total_price=products[pid].price * line["quantity"],
            )
            for pid, line in lines.items()
        ]
        history = OrderStatusHistory(
            order=order, from_status="", to_status=OrderStatus.PENDING, actor=user, reason="created"
        )
        events.insert_and_publish(
            [[order], order_items, [history]],
            EventType.ORDER_CREATED,
            lambda: (_order_event_data(order), order.pk),
        )
        _take_stock(lines)
        transaction.on_commit(lambda: ORDERS_CREATED.labels(currency).inc())
    _cache_relations(order, order_items)
    return order


def _order_event_data(order: Order) -> dict:
    return {
        "order_id": order.pk,
        "order_number": order.order_number,
        "status": order.status,
        "currency": order.currency,
        "total_amount": money.format_amount(order.total_amount, order.currency),
        "user_id": order.user_id,
    }


def _release_stock(order: Order) -> None:
    for product_id, quantity in order.items.values_list("product_id", "quantity").order_by(
        "product_id"
    ):
        Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity)


def _role(actor, order: Order) -> str:
    if actor is None:
        return SYSTEM
    return STAFF if actor.is_staff else CUSTOMER


def order_transition(
    *,
    order: Order,
    to_status: str,
    actor=None,
    reason: str = "",
    role: str | None = None,
    also_save: tuple[str, ...] = (),
) -> Order:
    """Move a locked order along the transitions table and record who did it.

    also_save names fields the caller changed on the order, written in the same UPDATE.

    Raises:
        InvalidStatus: the move is not in the table for this role, or a fulfilment move
            while a balance is due.
    """
    role = role or _role(actor, order)
    from_status = order.status
    if not can_transition(from_status, to_status, role):
        raise invalid_status(from_status, f"An order cannot go from {from_status} to {to_status}.")
    if to_status in FULFILMENT and order.total_amount - order.amount_paid > 0:
        raise invalid_status(from_status, "An order with a balance due is not fulfilled.")
    order.status = to_status
    update_fields = ["status", "updated_at", *also_save]
    if to_status == OrderStatus.CANCELLED:
        order.cancel_reason = reason[:255]
        update_fields.append("cancel_reason")
    order.save(update_fields=update_fields)
    if to_status in STOCK_RELEASING or (
        # Refunded in full before fulfilment began: the goods never left, as on a cancel.
        to_status == OrderStatus.REFUNDED and from_status == OrderStatus.PAID
    ):
        _release_stock(order)
    history = OrderStatusHistory(
        order=order, from_status=from_status, to_status=to_status, actor=actor, reason=reason[:255]
    )
    data = {**_order_event_data(order), "from_status": from_status, "reason": reason}
    events.insert_with_event(
        [history], EventType.for_order_status(to_status), data, order_id=order.pk
    )
    return order


# `Order.objects.select_for_update().get(pk=...)`, compiled once (gamarriando.compiled): every
# payment flow takes this lock first, and building it was a tenth of a process request.
_ORDER_FOR_UPDATE = Lookup(lambda pk: Order.objects.select_for_update().filter(pk=pk))


def lock_order(order_id: int) -> Order:
    """Lock and read the order (the first lock of every writer that takes several)."""
    order = _ORDER_FOR_UPDATE.get(order_id)
    if order is None:
        raise Order.DoesNotExist(f"no order {order_id}")
    return order


def order_cancel(*, order_id: int, actor=None, reason: str = "") -> Order:
    """Cancel an order, release its stock and let payments refund or void through the event.

    Raises:
        InvalidStatus: the order can no longer be cancelled.
        SecondFactorRequired: staff signed in by an API token without the one-time code (a
            cancellation refunds or voids the payments).
    """
    if actor is not None and actor.is_staff:
        require_token_second_factor(actor)
    with transaction.atomic():
        order = lock_order(order_id)
        reason = reason or (
            "cancelled by customer" if actor and not actor.is_staff else "cancelled"
        )
        return order_transition(
            order=order, to_status=OrderStatus.CANCELLED, actor=actor, reason=reason
        )


def order_update(*, order_id: int, actor, data: dict) -> Order:
    """Change addresses and notes while pending, or (staff) the status along the table.

    Raises:
        InvalidStatus: the order is not pending, or the status move is not allowed.
        PermissionDeniedError: a customer or a staff member without orders.change_order sets status.
        SecondFactorRequired: staff signed in by an API token without the one-time code.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        new_status = data.pop("status", None)
        reason = data.pop("reason", "") or "status changed by staff"
        if new_status is not None and not (
            actor.is_staff and actor.has_perm("orders.change_order")
        ):
            raise PermissionDeniedError("Only staff with orders.change_order may set the status.")
        if actor.is_staff and not actor.has_perm("orders.change_order"):
            raise PermissionDeniedError("Your role may view orders but not change them.")
        if actor.is_staff:
            require_token_second_factor(actor)
        if data:
            if order.status != OrderStatus.PENDING:
                raise invalid_status(order.status, "Only a pending order can be edited.")
            # The billing address follows the shipping one unless it was set apart.
            if (
                "shipping_address" in data
                and "billing_address" not in data
                and order.billing_address == order.shipping_address
            ):
                data["billing_address"] = data["shipping_address"]
            for field, value in data.items():
                setattr(order, field, value)
            order.save(update_fields=[*data.keys(), "updated_at"])
        if new_status is not None and new_status != order.status:
            order_transition(
                order=order,
                to_status=new_status,
                actor=actor,
                reason=reason,
            )
        elif new_status is not None and not data:
            raise invalid_status(order.status, f"The order is already {order.status}.")
    return order


def order_expire_unpaid(*, now=None) -> int:
    """Cancel pending orders past their payment deadline and release their stock."""
    now = now or timezone.now()
    expired = 0
    due = Order.objects.filter(status=OrderStatus.PENDING, expires_at__lte=now).order_by("pk")
    for order_id in due.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            order = Order.objects.select_for_update(skip_locked=True).filter(pk=order_id).first()
            if order is None or order.status != OrderStatus.PENDING:
                continue
            order_transition(
                order=order, to_status=OrderStatus.CANCELLED, reason="expired", role=SYSTEM
            )
            events.publish(EventType.ORDER_EXPIRED, _order_event_data(order), order_id=order.pk)
            expired += 1
    return expired


def order_apply_payment_totals(
    *, order: Order, amount_paid: Decimal, amount_refunded: Decimal
) -> Order:
    """Store the payments' totals on a locked order and settle it to paid or refunded."""
    if order.amount_paid == amount_paid and order.amount_refunded == amount_refunded:
        return order
    order.amount_paid = amount_paid
    order.amount_refunded = amount_refunded
    totals = ("amount_paid", "amount_refunded")
    if order.status == OrderStatus.PENDING and amount_paid >= order.total_amount:
        order_transition(
            order=order,
            to_status=OrderStatus.PAID,
            reason="payments settled the total",
            role=SYSTEM,
            also_save=totals,
        )
    elif (
        amount_paid > 0
        and amount_refunded >= amount_paid
        and can_transition(order.status, OrderStatus.REFUNDED, SYSTEM)
    ):
        order_transition(
            order=order,
            to_status=OrderStatus.REFUNDED,
            reason="refunds reached the paid total",
            role=SYSTEM,
            also_save=totals,
        )
    else:
        order.save(update_fields=[*totals, "updated_at"])
    return order

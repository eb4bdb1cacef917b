"""Catalog products, orders, their lines and their status history."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from gamarriando.history import StatusHistory

MONEY = {"max_digits": 12, "decimal_places": 2}


class Product(models.Model):
    """A sellable product with its price and the stock left to reserve."""

    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    price = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, default="PEN")
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_positive"),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"


class OrderStatus(models.TextChoices):
    PENDING = "pending"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class Order(models.Model):
    """A customer's order; amount_paid and amount_refunded mirror its payments' ledger."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    order_number = models.CharField(max_length=32, unique=True)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING, db_index=True
    )
    currency = models.CharField(max_length=3, default="PEN")
    total_amount = models.DecimalField(**MONEY)
    amount_paid = models.DecimalField(default=0, **MONEY)
    amount_refunded = models.DecimalField(default=0, **MONEY)
    shipping_address = models.JSONField()
    billing_address = models.JSONField()
    notes = models.TextField(blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="order_total_positive"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="order_paid_non_negative"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=F("amount_paid")),
                name="order_refunded_within_paid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_known"
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="order_user_created")]

    def __str__(self):
        return self.order_number

    @property
    def balance_due(self):
        return self.total_amount - self.amount_paid


class OrderItem(models.Model):
    """One line of an order, priced from the catalog when the order was placed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY)
    total_price = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_item_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["order", "product"], name="order_item_one_line_per_product"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product_id}"


class OrderStatusHistory(StatusHistory):
    """One row per order status change."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_history")

    class Meta:
        verbose_name_plural = "order status history"

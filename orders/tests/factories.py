"""factory-boy factories for products, orders and their lines, consistent with the order constraints."""

from decimal import Decimal

import factory

from orders.models import Order, OrderItem, Product
from tests.factories import UserFactory

ADDRESS = {
    "street": "Jr. Gamarra 123",
    "city": "Lima",
    "state": "Lima",
    "postal_code": "15018",
    "country": "PE",
}


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("25.00")
    currency = "PEN"
    stock = 100
    is_active = True


class OrderFactory(factory.django.DjangoModelFactory):
    """A pending order with one line; its total is that line's total, in the product's currency.

    Pass `product` and `quantity` to shape the line, or `line=None` for an order without lines.
    """

    class Meta:
        model = Order
        skip_postgeneration_save = True  # the line is its own row; the order needs no second save

    class Params:
        product = factory.SubFactory(ProductFactory)
        quantity = 1

    user = factory.SubFactory(UserFactory)
    order_number = factory.Sequence(lambda n: f"GAM-TEST-{n:06d}")
    currency = factory.SelfAttribute("product.currency")
    total_amount = factory.LazyAttribute(lambda o: o.product.price * o.quantity)
    shipping_address = factory.LazyFunction(lambda: dict(ADDRESS))
    billing_address = factory.LazyFunction(lambda: dict(ADDRESS))
    line = factory.RelatedFactory(
        "orders.tests.factories.OrderItemFactory",
        factory_related_name="order",
        product=factory.SelfAttribute("..product"),
        quantity=factory.SelfAttribute("..quantity"),
    )


class OrderItemFactory(factory.django.DjangoModelFactory):
    """A line priced from its product; on its own it comes with an order whose total it makes up."""

    class Meta:
        model = OrderItem

    product = factory.SubFactory(ProductFactory)
    quantity = 1
    order = factory.SubFactory(
        OrderFactory,
        line=None,
        product=factory.SelfAttribute("..product"),
        quantity=factory.SelfAttribute("..quantity"),
    )
    unit_price = factory.SelfAttribute("product.price")
    total_price = factory.LazyAttribute(lambda item: item.unit_price * item.quantity)

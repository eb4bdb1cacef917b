"""factory-boy factories for users, products, orders and payments."""

from decimal import Decimal

import factory

from gamarriando.users.models import User
from orders.models import Product


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Ana"
    last_name = "Quispe"
    password = factory.PostGenerationMethodCall("set_password", "s3cret-Passw0rd!")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("25.00")
    currency = "PEN"
    stock = 100
    is_active = True

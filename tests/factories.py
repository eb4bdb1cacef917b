"""factory-boy factories for users; products, orders and payments have theirs in their apps."""

import factory

from gamarriando.users.models import User


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

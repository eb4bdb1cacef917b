"""Give the demo customer 50.00 PEN of store credit, once; safe to run again."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from wallets.services import wallet_credit

DEMO_CUSTOMER = "customer@gamarriando.pe"
DEMO_CREDIT = Decimal("50.00")


class Command(BaseCommand):
    help = "Seed the demo customer's store credit (run after seed_demo)."

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(email=DEMO_CUSTOMER).first()
        if user is None:
            self.stderr.write("Run seed_demo first: the demo customer does not exist.")
            return
        wallet_credit(
            user=user,
            currency="PEN",
            amount=DEMO_CREDIT,
            reason="demo store credit",
            idempotency_key="demo-seed-store-credit",
        )
        self.stdout.write(f"{DEMO_CUSTOMER} holds {DEMO_CREDIT} PEN of store credit.")

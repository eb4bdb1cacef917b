"""Create demo products, a customer, a finance and a support user; safe to run again."""

from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from gamarriando.users.groups import ensure_staff_groups
from orders.models import Product

PRODUCTS = [
    ("POLO-001", "Polo Gamarra algodón pima", "59.99", "PEN", 500),
    ("JEAN-002", "Jean clásico azul", "89.90", "PEN", 300),
    ("CASA-003", "Casaca de cuero", "249.00", "PEN", 50),
    ("MEDIA-004", "Medias deportivas (3 pares)", "19.90", "PEN", 1000),
    ("TEE-USD-005", "Export tee", "15.00", "USD", 200),
    ("HOODIE-USD-006", "Export hoodie", "39.50", "USD", 200),
    ("YUKATA-JPY-007", "Yukata de algodón pima", "4800", "JPY", 200),
    ("SOCKS-JPY-008", "Tabi socks", "900", "JPY", 500),
]
USERS = [
    ("customer@gamarriando.pe", "customer-demo-2026", {}, None),
    ("finance@gamarriando.pe", "finance-demo-2026", {"is_staff": True}, "Finance"),
    ("support@gamarriando.pe", "support-demo-2026", {"is_staff": True}, "Support"),
    ("admin@gamarriando.pe", "admin-demo-2026", {"is_staff": True, "is_superuser": True}, None),
]


class Command(BaseCommand):
    help = "Load demo products and users (idempotent)."

    def handle(self, *args, **options):
        ensure_staff_groups(apps)
        for sku, name, price, currency, stock in PRODUCTS:
            Product.objects.get_or_create(
                sku=sku,
                defaults={
                    "name": name,
                    "price": Decimal(price),
                    "currency": currency,
                    "stock": stock,
                },
            )
        User = get_user_model()
        for email, password, flags, group in USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=password, **flags)
            if group:
                user.groups.add(Group.objects.get(name=group))
        # The history lives in the back office (it drives payments); called by name, since
        # orders may not import payments.
        call_command("seed_demo_history", stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write("Demo logins (email / password):")
        for email, password, _, group in USERS:
            self.stdout.write(
                f"  {email:28} {password:22} {group or ('superuser' if 'admin' in email else 'customer')}"
            )

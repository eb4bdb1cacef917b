"""Wallet metrics: lost compare-and-swaps, expired holds, and active holds read at scrape time."""

from django.db.models import Count
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from gamarriando.metrics import register_scrape_collector
from wallets.models import HoldStatus, WalletHold

WALLET_CONFLICTS = Counter(
    "gamarriando_wallet_version_conflicts_total",
    "Wallet compare-and-swaps that lost a race and were retried",
)
WALLET_HOLDS_EXPIRED = Counter(
    "gamarriando_wallet_holds_expired_total", "Wallet holds released because their time ran out"
)


class ActiveHoldsCollector:
    """Holds still reserving funds, per currency, read at scrape time."""

    def describe(self):
        return []  # keeps registration from querying the database at import time

    def collect(self):
        active = GaugeMetricFamily(
            "gamarriando_wallet_active_holds", "Wallet holds not yet settled", labels=["currency"]
        )
        rows = (
            WalletHold.objects.filter(status=HoldStatus.HELD)
            .values("wallet__currency")
            .annotate(count=Count("pk"))
            .order_by()
        )
        for row in rows:
            active.add_metric([row["wallet__currency"]], row["count"])
        yield active


_collector = ActiveHoldsCollector()


def register_wallet_monitoring() -> None:
    """Register the collector once per process (from AppConfig.ready)."""
    register_scrape_collector(_collector)

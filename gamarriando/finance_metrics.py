"""Business metrics the original service promised (issue 13); no imports, so any module may count."""

from prometheus_client import Counter, Histogram

ORDERS_CREATED = Counter("gamarriando_orders_created_total", "Orders created", ["currency"])
EVENTS_PUBLISHED = Counter(
    "gamarriando_events_published_total", "Domain events published (committed)", ["type"]
)
# Money settled through a gateway, per currency: a metric, so a float; the ledger keeps Decimals.
PAYMENT_AMOUNT = Counter(
    "gamarriando_payment_amount_total",
    "Amount settled through the gateways, in the currency's major unit",
    ["currency", "gateway", "kind"],
)
WEBHOOK_APPLY_LATENCY = Histogram(
    "gamarriando_webhook_apply_seconds",
    "Webhook processing latency, from receipt to applied",
    ["gateway"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
)
DUPLICATE_ATTEMPTS = Counter(
    "gamarriando_duplicate_payment_attempts_total",
    "Repeated payment attempts: idempotent replays and second process calls",
    ["kind"],
)

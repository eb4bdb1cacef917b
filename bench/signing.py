"""Sign a Stripe webhook body the way Stripe does (t=...,v1=HMAC-SHA256(secret, "t.body"))."""

import hashlib
import hmac
import time


def stripe_signature(body: str, secret: str, timestamp: int | None = None) -> str:
    """Return the Stripe-Signature header for body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"

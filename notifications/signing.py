"""Sign outgoing webhooks the way Stripe signs its own: t=<unix>,v1=HMAC-SHA256(secret, "t.body")."""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Gamarriando-Signature"


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """Return the signature header value for a body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(body: bytes, header: str, secret: str, tolerance: int = 300) -> bool:
    """What a subscriber runs: check the signature and that it is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or abs(time.time() - int(parts["t"])) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))

"""Sign outgoing webhooks the way Stripe signs its own: t=<unix>,v1=HMAC-SHA256(secret, "t.body").

During a secret rotation a delivery carries one v1 per valid secret (new first), and a
subscriber accepts the event when any of them matches its secret.
"""

import hashlib
import hmac
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "Gamarriando-Signature"


def _mac(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(
    body: bytes, secrets: str | Sequence[str], timestamp: int | None = None
) -> str:
    """Return the signature header value for a body, one v1 per secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    secrets = [secrets] if isinstance(secrets, str) else list(secrets)
    return ",".join([f"t={timestamp}", *(f"v1={_mac(s, str(timestamp), body)}" for s in secrets)])


def verify(body: bytes, header: str, secret: str, tolerance: int = 300) -> bool:
    """What a subscriber runs: check that a v1 signature matches and that it is recent."""
    pairs = [part.strip().split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in pairs if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    if abs(time.time() - int(timestamps[0])) > tolerance:
        return False
    expected = _mac(secret, timestamps[0], body)
    # Compare against every v1, not just the first: during a rotation one of them is ours.
    return any(hmac.compare_digest(expected, value) for key, value in pairs if key == "v1")

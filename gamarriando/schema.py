"""drf-spectacular hooks: document the error envelope on every /api/v1 operation."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "request_id"],
            "properties": {
                "code": {"type": "string", "example": "VALIDATION_ERROR"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
                "request_id": {"type": "string"},
            },
        }
    },
}

ERROR_DESCRIPTIONS = {
    "400": "VALIDATION_ERROR, CARD_DATA_NOT_ALLOWED, PAYMENT_METHOD_ERROR or AMOUNT_MISMATCH",
    "401": "NOT_AUTHENTICATED",
    "402": "CARD_DECLINED or INSUFFICIENT_FUNDS",
    "403": "PERMISSION_DENIED",
    "404": "NOT_FOUND",
    "405": "METHOD_NOT_ALLOWED",
    "406": "NOT_ACCEPTABLE",
    "409": "INVALID_STATUS, ALREADY_REFUNDED, REFUND_EXCEEDS_REFUNDABLE, REFUND_NOT_ELIGIBLE, "
    "WALLET_BUSY, OUT_OF_STOCK, PRICE_CHANGED or IDEMPOTENCY_KEY_IN_USE",
    "415": "UNSUPPORTED_MEDIA_TYPE",
    "422": "IDEMPOTENCY_KEY_REUSED",
    "429": "RATE_LIMITED or LIMIT_EXCEEDED",
    "500": "INTERNAL_ERROR",
    "502": "GATEWAY_ERROR",
    "503": "SERVICE_UNAVAILABLE or GATEWAY_NOT_CONFIGURED",
}


def add_error_responses(result, generator, request, public):
    """Add the Error component and every error answer to each operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_DESCRIPTIONS.items():
                if status in ("402", "502") and method != "post":
                    continue
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
            description = _idempotency_key(path) if method == "post" else None
            if description:
                operation.setdefault("parameters", []).append(
                    {
                        "in": "header",
                        "name": "Idempotency-Key",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                        "description": description,
                    }
                )
    return result


# Signing in has no user yet to scope a key to, and a stored answer would keep issued tokens in
# the database: these POSTs take no Idempotency-Key (docs/API.md, "Idempotency").
UNKEYED_PATHS = ("/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/auth/token/refresh")
STRIPE_KEYED_PREFIX = "/api/v1/payment-methods/"


def _idempotency_key(path: str) -> str:
    """Describe what an Idempotency-Key does on a POST path, or "" where it does nothing."""
    if path.rstrip("/") in UNKEYED_PATHS:
        return ""
    if path.startswith(STRIPE_KEYED_PREFIX):
        return "Passed on to Stripe as its idempotency key: a retry gets Stripe's first answer."
    return "Replays the stored answer for 24 hours."


def canonical_paths(endpoints):
    """Describe each endpoint once, at its path without the optional trailing slash."""
    seen, result = set(), []
    for path, path_regex, method, callback in endpoints:
        path = path.rstrip("/") or "/"
        if (path, method) in seen:
            continue
        seen.add((path, method))
        result.append((path, path_regex, method, callback))
    return result

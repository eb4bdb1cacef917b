"""django-axes hooks: whose failures count, and under which name."""

from django.urls import reverse

# AccessAttempt.username is 255 characters.
USERNAME_MAX = 255


def username(request, credentials) -> str | None:
    """The email as typed, trimmed and lower-cased, so that case changes share one count."""
    value = (credentials or {}).get("username")
    if value is None:
        value = request.POST.get("username")
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()[:USERNAME_MAX]


def outside_admin(request, credentials) -> bool:
    """Sign-ins outside the admin (the API's token) are left to the API's throttles."""
    return not request.path.startswith(reverse("admin:index"))

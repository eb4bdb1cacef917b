"""django-axes hooks: whose failures count, under which name, and the locked-out answer."""

from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
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


def lockout_response(request, original_response=None, credentials=None):
    """The admin-styled 429 page of a locked-out sign-in, even when the password was right."""
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in locked",
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "admin/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)

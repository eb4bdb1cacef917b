"""django-axes hooks: whose failures count, under which name, and the locked-out answer."""

import unicodedata

from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django.urls import reverse

from gamarriando.users.emails import sign_in_key

# AccessAttempt.username is 255 characters.
USERNAME_MAX = 255


def username(request, credentials) -> str | None:
    """The email as the sign-in form reads it, trimmed and lower-cased: one count per account."""
    value = (credentials or {}).get("username")
    if value is None:
        value = request.POST.get("username")
    if not isinstance(value, str) or not value.strip():
        return None
    # The form's UsernameField NFKC-normalises the email ("ſ" becomes "s") before the user
    # lookup; the raw field axes checks first counts under that spelling too, or escapes it.
    return sign_in_key(unicodedata.normalize("NFKC", value))[:USERNAME_MAX]


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

"""Who may read the OpenAPI schema and Swagger UI (/api/schema/, /api/docs/)."""

from django.conf import settings
from rest_framework.permissions import BasePermission

from gamarriando.staff_auth.rules import second_factor_satisfied
from gamarriando.staff_auth.tokens import token_lacks_second_factor


class ApiDocsAccess(BasePermission):
    """Anyone where API_DOCS_PUBLIC is on (local); otherwise active staff only (production).

    An admin session of staff who must sign in with a second factor counts only once that
    factor was given, as the admin itself asks; a bearer token only when its sign-in gave it.
    """

    def has_permission(self, request, view) -> bool:
        if settings.API_DOCS_PUBLIC:
            return True
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        if request.auth is not None:
            return not token_lacks_second_factor(user)
        return second_factor_satisfied(user)

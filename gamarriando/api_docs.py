"""Who may read the OpenAPI schema and Swagger UI (/api/schema/, /api/docs/)."""

from django.conf import settings
from rest_framework.permissions import BasePermission


class ApiDocsAccess(BasePermission):
    """Anyone where API_DOCS_PUBLIC is on (local); otherwise active staff only (production)."""

    def has_permission(self, request, view) -> bool:
        if settings.API_DOCS_PUBLIC:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)

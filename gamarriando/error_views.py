"""Django's 400 and 500 pages, as the contract's envelope under the API and webhook paths.

Errors raised in a middleware (a Host header the settings do not allow, a malformed
Content-Length read by a library's middleware) never reach DRF's exception handler nor
ApiErrorMiddleware.process_exception: Django answers them with these handlers.
"""

from django.http import JsonResponse
from django.views import defaults

from gamarriando.errors import error_body
from gamarriando.middleware import is_api


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    """Answer a request Django refused before any view (e.g. DisallowedHost) with a 400."""
    if not is_api(request):
        return defaults.bad_request(request, exception, template_name)
    body = error_body(
        "VALIDATION_ERROR", "The request is invalid.", {}, getattr(request, "request_id", None)
    )
    return JsonResponse(body, status=400)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """Answer a crash outside any view with a 500 that carries no traceback."""
    if not is_api(request):
        return defaults.server_error(request, template_name)
    body = error_body(
        "INTERNAL_ERROR", "An unexpected error occurred.", {}, getattr(request, "request_id", None)
    )
    return JsonResponse(body, status=500)

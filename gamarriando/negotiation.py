"""Content negotiation: a format the API cannot answer in is a 406, never a 404."""

from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, except that `?format=xml` answers 406 as `Accept: application/xml` does."""

    def filter_renderers(self, renderers, format):
        try:
            return super().filter_renderers(renderers, format)
        except Http404 as exc:
            # DRF answers an unknown ?format= with 404, which reads as "no such order".
            raise NotAcceptable(f"The API answers in JSON only, not {format[:20]}.") from exc

"""Cursor pagination, newest first, with page_size up to 100."""

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    """Paginate by created_at so a page costs the same at any depth."""

    ordering = "-created_at"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:
            # A cursor the client mangled is bad input, not a missing object.
            raise ValidationError({"cursor": ["Invalid cursor."]}) from exc

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # The position is the created_at of the page's edge; a cursor that decodes to anything
        # else would reach the ORM's datetime conversion and fail there.
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:  # well formed but impossible, e.g. month 13
                valid = False
            if not valid:
                raise NotFound(self.invalid_cursor_message)
        return cursor

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError as exc:
            raise ValidationError({"page_size": ["Must be an integer from 1 to 100."]}) from exc
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": ["Must be an integer from 1 to 100."]})
        return size

    def get_schema_operation_parameters(self, view):
        """Say the page size's bounds in the schema, as the server keeps them."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(
                    minimum=1, maximum=self.max_page_size, default=self.page_size
                )
        return parameters


class NewestFirstThenLatestMadeCursorPagination(NewestFirstCursorPagination):
    """Newest first, and rows made in one transaction (one created_at) latest made first."""

    ordering = ("-created_at", "-pk")

    def get_ordering(self, request, queryset, view):
        # A client's ?ordering=created_at replaces the whole ordering: the id follows it, in
        # the same direction, so rows of one instant keep the order they were made in.
        ordering = tuple(super().get_ordering(request, queryset, view))
        if ordering and ordering[-1].lstrip("-") != "pk":
            ordering += ("-pk" if ordering[0].startswith("-") else "pk",)
        return ordering

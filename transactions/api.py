"""Ledger endpoints: read for owners and staff; no edits ever (offline records: payments/api.py)."""

from rest_framework import mixins, serializers, viewsets

from gamarriando.fields import MoneyOutputField
from gamarriando.filters import FiltersOnListMixin
from gamarriando.json_codec import CompactJSONRenderer
from transactions.filters import TransactionFilter
from transactions.models import Transaction
from transactions.representations import transaction_data
from transactions.selectors import rendered_rows, transaction_visible_to, with_rendered


class TransactionOutputSerializer(serializers.ModelSerializer):
    payment_id = serializers.IntegerField(read_only=True)
    amount = MoneyOutputField()
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Transaction
        fields = [
            "id",
            "payment_id",
            "transaction_type",
            "amount",
            "currency",
            "status",
            "gateway_transaction_id",
            "failure_reason",
            "reason",
            "created_by",
            "processed_at",
            "created_at",
        ]

    def to_representation(self, txn):
        # The declared fields above are the schema; transactions.representations renders them.
        return transaction_data(txn)


class TransactionViewSet(
    FiltersOnListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The append-only ledger: list and read."""

    queryset = Transaction.objects.none()  # for the schema; get_queryset scopes by user
    renderer_classes = [CompactJSONRenderer]  # answers hold no floats (gamarriando.json_codec)
    serializer_class = TransactionOutputSerializer
    filterset_class = TransactionFilter
    ordering_fields = ["created_at"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return with_rendered(transaction_visible_to(self.request.user))

    def list(self, request, *args, **kwargs):
        # ListModelMixin.list's steps without its ListSerializer or model objects: the page
        # is rows of PostgreSQL's JSON, rendered by transaction_data as the serializer would.
        queryset = self.filter_queryset(transaction_visible_to(request.user))
        page = self.paginate_queryset(rendered_rows(queryset))
        return self.get_paginated_response([transaction_data(row) for row in page])

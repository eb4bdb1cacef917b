"""Ledger endpoints: read for owners and staff, offline records for Finance; no edits ever."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from gamarriando.errors import PermissionDeniedError, field_error
from gamarriando.fields import MoneyInputField, MoneyOutputField
from gamarriando.idempotency import idempotent
from transactions.filters import TransactionFilter
from transactions.models import Transaction, TransactionType
from transactions.selectors import transaction_visible_to


class TransactionCreateInputSerializer(serializers.Serializer):
    payment_id = serializers.IntegerField(min_value=1, max_value=2**62)
    transaction_type = serializers.ChoiceField(choices=TransactionType.choices)
    amount = MoneyInputField()
    gateway_transaction_id = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    reason = serializers.CharField(max_length=255)


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


class TransactionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The append-only ledger: list, read, and record offline operations (Finance)."""

    queryset = Transaction.objects.none()  # for the schema; get_queryset scopes by user
    serializer_class = TransactionOutputSerializer
    filterset_class = TransactionFilter
    ordering_fields = ["created_at"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return transaction_visible_to(self.request.user)

    @extend_schema(
        request=TransactionCreateInputSerializer, responses={201: TransactionOutputSerializer}
    )
    @idempotent
    def create(self, request):
        from payments.selectors import payment_visible_to
        from payments.services import transaction_record_offline

        if not request.user.has_perm("transactions.add_transaction"):
            raise PermissionDeniedError("Only Finance may record transactions.")
        data = TransactionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if not payment_visible_to(request.user).filter(pk=values["payment_id"]).exists():
            raise field_error("payment_id", "No such payment.")
        txn = transaction_record_offline(actor=request.user, **values)
        return Response(TransactionOutputSerializer(txn).data, status=status.HTTP_201_CREATED)

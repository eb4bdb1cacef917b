"""Payment endpoints: input serializers, output serializers, thin viewsets."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from gamarriando.errors import field_error
from gamarriando.fields import CurrencyField, MoneyInputField, MoneyOutputField
from gamarriando.filters import FiltersOnListMixin
from gamarriando.idempotency import idempotent
from gamarriando.money import format_amount
from gamarriando.queue import runs_inline
from gamarriando.throttling import throttles
from payments import selectors, services
from payments.filters import PaymentFilter
from payments.models import Payment
from payments.payment_fields import MetadataField, SavedMethodIdField
from payments.permissions import PaymentPermission, require_permission
from payments.representations import dispute_status, payment_data
from transactions.api import TransactionOutputSerializer, TransactionViewSet
from transactions.models import GATEWAY_ONLY_TYPES, Transaction, TransactionType

ID_PATTERN = r"[0-9]{1,18}"
# Money writes throttled per user; they refuse (503) rather than run uncounted without Redis.
THROTTLED_ACTIONS = {"create", "process", "refund"}


class PaymentCreateInputSerializer(serializers.Serializer):
    order_id = serializers.IntegerField(min_value=1, max_value=2**62)
    payment_method = serializers.CharField(max_length=32)
    amount = MoneyInputField()
    currency = CurrencyField(required=False)
    metadata = MetadataField(required=False)


class PaymentUpdateInputSerializer(serializers.Serializer):
    payment_method = serializers.CharField(max_length=32, required=False)
    amount = MoneyInputField(required=False)


class PaymentProcessInputSerializer(serializers.Serializer):
    # PayPal (the buyer approves at PayPal) and the wallet need none; other gateways do.
    payment_method_id = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="The gateway's token (tok_..., pm_...); none for wallet, nor for paypal, whose "
        "buyer approves at PayPal: process once for next_action.url, and again after the "
        "approval; none either with saved_payment_method_id.",
    )
    saved_payment_method_id = SavedMethodIdField(required=False)
    save_payment_method = serializers.BooleanField(required=False, default=False)
    capture = serializers.BooleanField(required=False, default=True)
    return_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=2000)

    def validate(self, attrs):
        # One way to say what pays: a gateway token, or one of the customer's saved methods.
        # Neither is refused by the service, which knows whether the gateway needs a token.
        if attrs.get("payment_method_id") and "saved_payment_method_id" in attrs:
            raise serializers.ValidationError(
                {"saved_payment_method_id": ["Send either this or payment_method_id, not both."]}
            )
        return attrs


class PaymentCaptureInputSerializer(serializers.Serializer):
    amount = MoneyInputField(required=False)


class PaymentRefundInputSerializer(serializers.Serializer):
    amount = MoneyInputField(required=False)
    reason = serializers.CharField(max_length=255)
    destination = serializers.ChoiceField(
        choices=["original", "wallet"], required=False, default="original"
    )


class PaymentOutputSerializer(serializers.ModelSerializer):
    order_id = serializers.IntegerField(read_only=True)
    amount = MoneyOutputField()
    captured_amount = MoneyOutputField()
    refunded_amount = MoneyOutputField()
    refundable_amount = serializers.SerializerMethodField()
    next_action = serializers.JSONField(read_only=True, allow_null=True)
    dispute_status = serializers.SerializerMethodField()
    metadata = serializers.DictField(child=serializers.CharField(), read_only=True)
    saved_payment_method_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "order_id",
            "payment_method",
            "amount",
            "currency",
            "status",
            "captured_amount",
            "refunded_amount",
            "refundable_amount",
            "gateway_transaction_id",
            "failure_code",
            "failure_message",
            "next_action",
            "disputed",
            "dispute_status",
            "metadata",
            "saved_payment_method_id",
            "wallet",
            "processed_at",
            "created_at",
            "updated_at",
        ]

    # The two methods below describe these fields in the schema (payment_data renders them).
    @extend_schema_field({"type": "string", "format": "decimal"})
    def get_refundable_amount(self, payment) -> str:
        return format_amount(selectors.refundable_amount(payment), payment.currency)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_dispute_status(self, payment) -> str | None:
        return dispute_status(payment)

    def to_representation(self, payment):
        # The declared fields above are the schema; payments.representations renders them.
        return payment_data(payment)


class RefundOutputSerializer(serializers.Serializer):
    payment = PaymentOutputSerializer()
    transaction = TransactionOutputSerializer()


class PaymentMethodOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    supports_authorize = serializers.BooleanField()
    supports_refund = serializers.BooleanField()
    currencies = serializers.ListField(child=serializers.CharField())


class PaymentMethodListView(APIView):
    """List the enabled payment methods as a plain array."""

    @extend_schema(responses={200: PaymentMethodOutputSerializer(many=True)})
    def get(self, request):
        return Response(PaymentMethodOutputSerializer(selectors.payment_methods(), many=True).data)


class PaymentViewSet(
    FiltersOnListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Create, read, change, cancel, process, capture and refund payments."""

    queryset = Payment.objects.none()  # for the schema; get_queryset scopes by user
    serializer_class = PaymentOutputSerializer
    filterset_class = PaymentFilter
    ordering_fields = ["created_at"]
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return selectors.payment_visible_to(self.request.user)

    def get_object(self):
        if self.action in ("list", "retrieve"):
            return super().get_object()
        # The other actions only look the payment up (someone else's is a 404): no ledger sums,
        # which cost more to compile than the lookup, and a lookup compiled once per process;
        # _render reads the figures for the answer.
        payment = selectors.payment_in_scope(self.request.user, int(self.kwargs[self.lookup_field]))
        if payment is None:
            raise Http404
        self.check_object_permissions(self.request, payment)
        return payment

    def get_throttles(self):
        if self.action in THROTTLED_ACTIONS:
            return throttles(f"payments_{self.action}", fail_open=False)
        return super().get_throttles()

    def _render(self, payment_id: int, http_status=status.HTTP_200_OK) -> Response:
        payment = selectors.payment_visible_to(self.request.user).get(pk=payment_id)
        return Response(PaymentOutputSerializer(payment).data, status=http_status)

    def _rendered_later(self, payment: Payment, http_status: int) -> Response:
        """Render now, and let the idempotency layer re-render once inline work has run."""
        # The payment in hand was read and saved under its lock; when it never took money,
        # the figures payment_visible_to would add are known without reading it back. Inline
        # (no broker) the work already ran on commit and changed it: read it back.
        in_hand = None if runs_inline() else selectors.figures_in_hand(payment)
        if in_hand is None:
            response = self._render(payment.pk, http_status)
        else:
            response = Response(PaymentOutputSerializer(in_hand).data, status=http_status)
        response.rerender = lambda: self._render(payment.pk, http_status)
        return response

    @extend_schema(request=PaymentCreateInputSerializer, responses={201: PaymentOutputSerializer})
    @idempotent
    def create(self, request):
        data = PaymentCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.payment_create(user=request.user, **data.validated_data)
        if len(payment.metadata) > 1:
            # The database orders a JSON object's keys its own way (PostgreSQL's jsonb by
            # length): read the payment back, so that the answer is what GET answers.
            return self._render(payment.pk, status.HTTP_201_CREATED)
        return Response(
            PaymentOutputSerializer(selectors.with_new_figures(payment)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=PaymentUpdateInputSerializer, responses={200: PaymentOutputSerializer})
    def update(self, request, pk=None, partial=False):
        payment = self.get_object()
        data = PaymentUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.payment_update(payment_id=payment.pk, actor=request.user, **data.validated_data)
        return self._render(payment.pk)

    @extend_schema(request=PaymentUpdateInputSerializer, responses={200: PaymentOutputSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(request=None, responses={200: PaymentOutputSerializer})
    def destroy(self, request, pk=None):
        payment = self.get_object()
        services.payment_cancel(payment_id=payment.pk, actor=request.user)
        return self._render(payment.pk)

    @extend_schema(request=PaymentProcessInputSerializer, responses={202: PaymentOutputSerializer})
    @action(detail=True, methods=["post"], url_path="process")
    @idempotent
    def process(self, request, pk=None):
        payment = self.get_object()
        data = PaymentProcessInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        processed = services.payment_process(
            payment_id=payment.pk, actor=request.user, looked_up=payment, **data.validated_data
        )
        return self._rendered_later(processed, status.HTTP_202_ACCEPTED)

    @extend_schema(request=PaymentCaptureInputSerializer, responses={202: PaymentOutputSerializer})
    @action(detail=True, methods=["post"], url_path="capture")
    @idempotent
    def capture(self, request, pk=None):
        payment = self.get_object()
        data = PaymentCaptureInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        captured, _ = services.payment_capture(
            payment_id=payment.pk, actor=request.user, **data.validated_data
        )
        return self._rendered_later(captured, status.HTTP_202_ACCEPTED)

    @extend_schema(request=PaymentRefundInputSerializer, responses={202: RefundOutputSerializer})
    @action(detail=True, methods=["post"], url_path="refund")
    @idempotent
    def refund(self, request, pk=None):
        payment = self.get_object()
        data = PaymentRefundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _, txn = services.payment_refund(
            payment_id=payment.pk, actor=request.user, **data.validated_data
        )
        response = self._render_refund(payment.pk, txn.pk)
        response.rerender = lambda: self._render_refund(payment.pk, txn.pk)
        return response

    def _render_refund(self, payment_id: int, transaction_id: int) -> Response:
        body = {
            "payment": PaymentOutputSerializer(
                selectors.payment_visible_to(self.request.user).get(pk=payment_id)
            ).data,
            "transaction": TransactionOutputSerializer(
                Transaction.objects.get(pk=transaction_id)
            ).data,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


class TransactionCreateInputSerializer(serializers.Serializer):
    payment_id = serializers.IntegerField(min_value=1, max_value=2**62)
    # Chargeback rows come only from a gateway's dispute (payments/services/disputes.py), a
    # refund's reversal only from the gateway failing it (payments/services/refund_failure.py).
    transaction_type = serializers.ChoiceField(
        choices=[c for c in TransactionType.choices if c[0] not in GATEWAY_ONLY_TYPES]
    )
    amount = MoneyInputField()
    gateway_transaction_id = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    reason = serializers.CharField(max_length=255)


class LedgerViewSet(TransactionViewSet):
    """The ledger's endpoints plus Finance's offline records, whose writes live in payments."""

    @extend_schema(
        request=TransactionCreateInputSerializer, responses={201: TransactionOutputSerializer}
    )
    @idempotent
    def create(self, request):
        require_permission(
            request.user, PaymentPermission.RECORD_OFFLINE, "Only Finance may record transactions."
        )
        data = TransactionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if not selectors.payment_scope(request.user).filter(pk=values["payment_id"]).exists():
            raise field_error("payment_id", "No such payment.")
        txn = services.transaction_record_offline(actor=request.user, **values)
        return Response(TransactionOutputSerializer(txn).data, status=status.HTTP_201_CREATED)

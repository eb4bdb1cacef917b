"""Catalog and order endpoints: input serializers, output serializers, thin viewsets."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from gamarriando.errors import PermissionDeniedError
from gamarriando.fields import AddressSerializer, CurrencyField, MoneyInputField, MoneyOutputField
from gamarriando.filters import FiltersOnListMixin
from gamarriando.idempotency import idempotent
from gamarriando.json_codec import CompactJSONRenderer
from gamarriando.money import DEFAULT_CURRENCY
from gamarriando.throttling import throttles
from orders import selectors, services
from orders.filters import OrderFilter
from orders.models import Order, OrderItem, OrderStatus, Product
from orders.representations import item_data, order_data, payment_summary_data, product_data


class ProductOutputSerializer(serializers.ModelSerializer):
    price = MoneyOutputField()

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "price", "currency", "stock"]

    def to_representation(self, product):
        # The declared fields above are the schema; orders.representations renders them.
        return product_data(product)


class OrderItemInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**62)
    quantity = serializers.IntegerField(min_value=1, max_value=1000)
    unit_price = MoneyInputField(required=False)


class OrderCreateInputSerializer(serializers.Serializer):
    items = OrderItemInputSerializer(many=True, allow_empty=False, min_length=1, max_length=100)
    shipping_address = AddressSerializer()
    billing_address = AddressSerializer(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    currency = CurrencyField(required=False, default=DEFAULT_CURRENCY)


class OrderUpdateInputSerializer(serializers.Serializer):
    shipping_address = AddressSerializer(required=False)
    billing_address = AddressSerializer(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255)


class OrderItemOutputSerializer(serializers.ModelSerializer):
    unit_price = MoneyOutputField(currency_attr="order.currency")
    total_price = MoneyOutputField(currency_attr="order.currency")

    class Meta:
        model = OrderItem
        fields = ["id", "product_id", "quantity", "unit_price", "total_price"]

    def to_representation(self, item):
        return item_data(item, item.order.currency)


class OrderPaymentSummarySerializer(serializers.Serializer):
    """The payment fields an order shows; read by relation name (orders never imports payments)."""

    id = serializers.IntegerField()
    payment_method = serializers.CharField()
    amount = MoneyOutputField()
    currency = serializers.CharField()
    status = serializers.CharField()
    captured_amount = MoneyOutputField()
    refunded_amount = MoneyOutputField()
    metadata = serializers.DictField(child=serializers.CharField())
    wallet = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, payment):
        return payment_summary_data(payment)


class OrderOutputSerializer(serializers.ModelSerializer):
    total_amount = MoneyOutputField()
    amount_paid = MoneyOutputField()
    amount_refunded = MoneyOutputField()
    balance_due = MoneyOutputField()
    items = OrderItemOutputSerializer(many=True, read_only=True)
    payments = OrderPaymentSummarySerializer(many=True, read_only=True)
    shipping_address = AddressSerializer(read_only=True)
    billing_address = AddressSerializer(read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "order_number",
            "status",
            "currency",
            "total_amount",
            "amount_paid",
            "amount_refunded",
            "balance_due",
            "items",
            "shipping_address",
            "billing_address",
            "notes",
            "payments",
            "created_at",
            "updated_at",
            "expires_at",
        ]

    def to_representation(self, order):
        # The declared fields above are the schema; orders.representations renders them.
        return order_data(order)


class ProductViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """List the active catalog; public."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    renderer_classes = [CompactJSONRenderer]  # answers hold no floats (gamarriando.json_codec)
    serializer_class = ProductOutputSerializer
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.product_list_active()


class OrderViewSet(
    FiltersOnListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Create, read, update and cancel orders."""

    queryset = Order.objects.none()  # for the schema; get_queryset scopes by user
    renderer_classes = [CompactJSONRenderer]  # answers hold no floats (gamarriando.json_codec)
    serializer_class = OrderOutputSerializer
    filterset_class = OrderFilter
    lookup_value_regex = r"[0-9]{1,18}"
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.order_visible_to(self.request.user)

    def get_throttles(self):
        if self.action == "create":
            # Fails open without Redis: the pending-orders cap bounds abuse in the database.
            return throttles("orders_create", fail_open=True)
        return super().get_throttles()

    def list(self, request, *args, **kwargs):
        queryset = selectors.rendered_rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        selectors.attach_details(page)
        return self.get_paginated_response([order_data(order) for order in page])

    def retrieve(self, request, *args, **kwargs):
        # get_object's steps by hand: get_object would read the order without its lines and
        # payments, which with_details adds to the same statement.
        order = get_object_or_404(selectors.with_details(self.get_queryset()), pk=kwargs["pk"])
        self.check_object_permissions(request, order)
        selectors.attach_details([order])
        return Response(order_data(order))

    def _render(self, order_id: int, http_status=status.HTTP_200_OK) -> Response:
        order = selectors.with_details(self.get_queryset()).get(pk=order_id)
        selectors.attach_details([order])
        return Response(order_data(order), status=http_status)

    @extend_schema(request=OrderCreateInputSerializer, responses={201: OrderOutputSerializer})
    @idempotent
    def create(self, request):
        data = OrderCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_create(user=request.user, **data.validated_data)
        # Rendered from the objects in hand: the new order's lines are cached on it, no re-read.
        return Response(order_data(order), status=status.HTTP_201_CREATED)

    @extend_schema(request=OrderUpdateInputSerializer, responses={200: OrderOutputSerializer})
    def update(self, request, pk=None, partial=False):
        order = self.get_object()
        data = OrderUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.order_update(order_id=order.pk, actor=request.user, data=dict(data.validated_data))
        return self._render(order.pk)

    @extend_schema(request=OrderUpdateInputSerializer, responses={200: OrderOutputSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(request=None, responses={200: OrderOutputSerializer})
    def destroy(self, request, pk=None):
        order = self.get_object()
        if request.user.is_staff and not request.user.has_perm("orders.change_order"):
            raise PermissionDeniedError("Your role may view orders but not cancel them.")
        services.order_cancel(order_id=order.pk, actor=request.user)
        return self._render(order.pk)

"""Wallet endpoints: a customer's balances and entries, read only."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from gamarriando.fields import MoneyOutputField
from gamarriando.money import format_amount
from gamarriando.pagination import NewestFirstThenLatestMadeCursorPagination
from wallets import selectors
from wallets.filters import WalletEntryFilter
from wallets.models import Wallet, WalletEntry


class WalletOutputSerializer(serializers.ModelSerializer):
    balance = MoneyOutputField()
    held = MoneyOutputField()
    available = serializers.SerializerMethodField()

    class Meta:
        model = Wallet
        fields = ["currency", "balance", "held", "available"]

    @extend_schema_field({"type": "string", "format": "decimal"})
    def get_available(self, wallet) -> str:
        return format_amount(wallet.available, wallet.currency)


class WalletEntryOutputSerializer(serializers.ModelSerializer):
    currency = serializers.CharField(source="wallet.currency", read_only=True)
    amount = MoneyOutputField(currency_attr="wallet.currency")
    balance_after = MoneyOutputField(currency_attr="wallet.currency")
    held_after = MoneyOutputField(currency_attr="wallet.currency")

    class Meta:
        model = WalletEntry
        fields = [
            "id",
            "currency",
            "entry_type",
            "amount",
            "balance_after",
            "held_after",
            "reason",
            "payment_id",
            "order_id",
            "created_at",
        ]


class WalletListView(APIView):
    """The caller's wallets, one per currency, as a plain array."""

    @extend_schema(responses={200: WalletOutputSerializer(many=True)})
    def get(self, request):
        return Response(WalletOutputSerializer(selectors.wallets_of(request.user), many=True).data)


class WalletEntryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's wallet entries, newest first."""

    queryset = WalletEntry.objects.none()  # for the schema; get_queryset scopes by user
    serializer_class = WalletEntryOutputSerializer
    filterset_class = WalletEntryFilter
    # A capture's debit and the release of the rest share created_at: the later one first.
    pagination_class = NewestFirstThenLatestMadeCursorPagination
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.entries_of(self.request.user)

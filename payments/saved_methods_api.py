"""Saved payment methods endpoints: Stripe.js configuration, SetupIntents, list, default, remove.

These handlers call Stripe, so their POSTs go through the Idempotency-Key layer's variant that
holds no transaction open (`idempotent_gateway_call`); the client's key is also passed on to
Stripe, whose replay gives a request retried after a crash the same SetupIntent, never a second.
"""

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from gamarriando.idempotency import idempotent_gateway_call
from gamarriando.throttling import throttles
from payments import saved_selectors, services
from payments.gateways.registry import enabled_gateway_names

ID_PATTERN = r"[0-9]{1,18}"
GATEWAY_ERROR = OpenApiResponse(description="GATEWAY_ERROR: Stripe failed or refused")


def client_key(request) -> str | None:
    """Return the request's Idempotency-Key (the idempotency layer has checked it)."""
    return request.headers.get("Idempotency-Key")


class StripeConfigSerializer(serializers.Serializer):
    publishable_key = serializers.CharField()
    payment_method_types = serializers.ListField(child=serializers.CharField())
    wallets = serializers.ListField(child=serializers.CharField())


class PaymentMethodConfigSerializer(serializers.Serializer):
    stripe = StripeConfigSerializer(required=False)


class SetupIntentOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    client_secret = serializers.CharField()


class SavedMethodOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    brand = serializers.CharField(allow_null=True)
    last4 = serializers.CharField(allow_null=True)
    exp_month = serializers.IntegerField(allow_null=True)
    exp_year = serializers.IntegerField(allow_null=True)
    wallet = serializers.CharField(allow_null=True)
    is_default = serializers.BooleanField()
    expired = serializers.BooleanField()
    created_at = serializers.DateTimeField(allow_null=True)


class PaymentMethodConfigView(APIView):
    """What the storefront needs to start Stripe.js: the current mode's key and method types."""

    @extend_schema(responses={200: PaymentMethodConfigSerializer})
    def get(self, request):
        body = {}
        publishable_key = (
            settings.STRIPE_LIVE_PUBLIC_KEY
            if settings.STRIPE_LIVE_MODE
            else settings.STRIPE_TEST_PUBLIC_KEY
        )
        # Without its publishable key Stripe.js cannot start: nothing to offer the storefront.
        if publishable_key and "stripe" in enabled_gateway_names():
            body["stripe"] = {
                "publishable_key": publishable_key,
                "payment_method_types": list(settings.STRIPE_PAYMENT_METHOD_TYPES),
                "wallets": list(settings.STRIPE_WALLETS),
            }
        return Response(PaymentMethodConfigSerializer(body).data)


class SetupIntentView(APIView):
    """Start saving a card: a SetupIntent for the caller's Stripe Customer, confirmed by Stripe.js."""

    def get_throttles(self):
        # A SetupIntent checks a card without charging it: card testers' favourite; counted.
        return throttles("payments_setup_intent", fail_open=False)

    @extend_schema(request=None, responses={201: SetupIntentOutputSerializer, 502: GATEWAY_ERROR})
    @idempotent_gateway_call
    def post(self, request):
        answer = services.saved_method_setup_intent(
            user=request.user, client_key=client_key(request)
        )
        return Response(SetupIntentOutputSerializer(answer).data, status=status.HTTP_201_CREATED)


class SavedPaymentMethodViewSet(viewsets.ViewSet):
    """The caller's saved methods: list, make one default, remove one."""

    lookup_value_regex = ID_PATTERN
    serializer_class = SavedMethodOutputSerializer

    def _render(self, method_id: int, http_status=status.HTTP_200_OK) -> Response:
        methods = saved_selectors.saved_methods_of(self.request.user)
        method = next((m for m in methods if m.id == method_id), None)
        if method is None:  # removed meanwhile (another tab, the Dashboard)
            raise Http404("No such saved payment method.")
        return Response(SavedMethodOutputSerializer(method).data, status=http_status)

    @extend_schema(responses={200: SavedMethodOutputSerializer(many=True)})
    def list(self, request):
        methods = saved_selectors.saved_methods_of(request.user)
        return Response(SavedMethodOutputSerializer(methods, many=True).data)

    @extend_schema(request=None, responses={204: None, 502: GATEWAY_ERROR})
    def destroy(self, request, pk=None):
        services.saved_method_remove(user=request.user, method_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: SavedMethodOutputSerializer, 502: GATEWAY_ERROR})
    @action(detail=True, methods=["post"], url_path="default")
    @idempotent_gateway_call
    def default(self, request, pk=None):
        services.saved_method_make_default(
            user=request.user, method_id=int(pk), client_key=client_key(request)
        )
        return self._render(int(pk))

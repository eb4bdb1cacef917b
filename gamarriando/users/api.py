"""Register, token, refresh and me."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from gamarriando.staff_auth.devices import totp_token_check
from gamarriando.staff_auth.rules import confirmed_device, second_factor_required
from gamarriando.staff_auth.tokens import has_second_factor, mark_sign_in
from gamarriando.throttling import AccountRateThrottle, throttles
from gamarriando.users.authentication import user_by_id

User = get_user_model()


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)

    def validate_email(self, value):
        value = value.lower()
        if User.objects.filter(email__iexact=value).exists():
            raise serializers.ValidationError("A user with this email already exists.")
        return value

    def validate(self, attrs):
        candidate = User(
            email=attrs["email"],
            first_name=attrs.get("first_name", ""),
            last_name=attrs.get("last_name", ""),
        )
        try:
            validate_password(attrs["password"], user=candidate)
        except Exception as exc:  # Django's ValidationError carries the messages
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name"]


class MeOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "is_staff"]


class RegisterView(APIView):
    """Create a customer account.

    A taken email answers 400 (the contract), which tells a prober that the address has an
    account; so registration is throttled hard per client (``register``, hourly) on top of
    the burst limit (``auth``), and refuses to run when those counters cannot be kept.
    """

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    def get_throttles(self):
        return throttles("auth", "register", fail_open=False)

    @extend_schema(request=RegisterInputSerializer, responses={201: UserOutputSerializer})
    def post(self, request):
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = User.objects.create_user(**serializer.validated_data)
        except IntegrityError as exc:  # two registrations racing for one email
            raise serializers.ValidationError(
                {"email": ["A user with this email already exists."]}
            ) from exc
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenInputSerializer(TokenObtainSerializer):
    """Email and password, plus the TOTP code of staff who must sign in with a second factor."""

    token_class = RefreshToken
    otp_code = serializers.CharField(required=False, allow_blank=True, max_length=12)
    # One answer for a wrong password and for a right one without a valid code or device, as
    # the admin's form gives: a different one would tell a guesser the password was right.
    default_error_messages = {
        "no_active_account": (
            "No active account found with the given credentials, "
            "or a one-time code (otp_code) is required."
        )
    }

    def validate(self, attrs):
        super().validate(attrs)  # wrong email or password: 401 before any code is read
        with_code = self._second_factor(attrs.get("otp_code") or "")
        refresh = self.get_token(self.user)
        # Refresh and the money checks read this back (gamarriando.staff_auth.tokens).
        mark_sign_in(refresh, with_code=with_code)
        return {"refresh": str(refresh), "access": str(refresh.access_token)}

    def _second_factor(self, code: str) -> bool:
        """Check the code of a user who owes one; tell whether one was verified."""
        # A token moves money as well as the admin does, so it asks for the same second factor.
        if not second_factor_required(self.user):
            return False
        device = confirmed_device(self.user)
        # No device yet (enrolled in the back office) or no valid code: the wrong-password answer.
        if (
            device is None
            or not code
            or not totp_token_check(user=self.user, device=device, token=code)
        ):
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        return True


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class TokenView(TokenObtainPairView):
    """Exchange email and password (and a one-time code for money staff) for a token pair."""

    serializer_class = TokenInputSerializer

    @extend_schema(request=TokenInputSerializer, responses={200: TokenPairOutputSerializer})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def get_throttles(self):
        # Per client (a rotating X-Forwarded-For is not a new client) and per account.
        return [*throttles("auth", fail_open=False), AccountRateThrottle("auth_account")]


class TokenRefreshInputSerializer(TokenRefreshSerializer):
    """A refresh token, refused when its user now needs a code the sign-in did not verify."""

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])  # signature, expiry, blacklist: 401
        try:
            user = user_by_id(int(refresh[api_settings.USER_ID_CLAIM]))
        except (KeyError, TypeError, ValueError):
            user = None
        if user is None:
            raise AuthenticationFailed(self.error_messages["no_active_account"])
        # Without this a password-only sign-in from before a move to Finance renews for ever.
        if second_factor_required(user) and not has_second_factor(refresh):
            raise AuthenticationFailed(
                "This account now signs in with a one-time code: "
                "sign in again at /auth/token with otp_code."
            )
        return super().validate(attrs)


class TokenRefreshRotateView(TokenRefreshView):
    """Exchange a refresh token for a new pair; the old refresh is blacklisted."""

    serializer_class = TokenRefreshInputSerializer

    @extend_schema(responses={200: TokenPairOutputSerializer})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def get_throttles(self):
        # A refresh token is an unguessable secret: this guards load, so it may fail open.
        return throttles("auth_refresh", fail_open=True)


class MeView(APIView):
    """Show the signed-in user."""

    @extend_schema(responses={200: MeOutputSerializer})
    def get(self, request):
        return Response(MeOutputSerializer(request.user).data)

"""JWT authentication that reads the token's user with one statement compiled once per process.

simplejwt's JWTAuthentication reads the user with `User.objects.get(id=...)` on every request,
and building and compiling that query cost more than running it: with a token, a trivial
endpoint answered about 760 requests per second with simplejwt's class and about 1,100 with
this one, against 1,700-1,800 without a token (docs/benchmarks.md, round 2). The user is
still read fresh on every request, so a deactivated user or a changed password
(CHECK_REVOKE_TOKEN) takes effect at once; only the SQL text is reused.

The signature check of an access token is remembered per process (verified_access_token):
the same bytes always verify the same way, so only the expiry is checked again.
"""

from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from gamarriando.compiled import Lookup
from gamarriando.staff_auth.tokens import remember_token_on_user
from gamarriando.users.models import User

# simplejwt's `User.objects.get(id=...)`, compiled once per process (gamarriando.compiled).
_USER_BY_ID = Lookup(lambda user_id: User.objects.filter(pk=user_id))


def user_by_id(user_id) -> User | None:
    """Return the user with this id, read now, or None; the same row the ORM's get() reads."""
    return _USER_BY_ID.get(user_id)


# raw token -> (its verified AccessToken, its expiry as a POSIX time). The token object is
# shared by the requests that send those bytes (request.auth): nothing writes to it. Bounded
# by emptying it when full: a plain dict stays safe under threaded workers, and a miss costs
# one decode.
_verified: dict[bytes, tuple[AccessToken, float]] = {}
VERIFIED_TOKENS_KEPT = 4096


def verified_access_token(raw_token: bytes) -> AccessToken | None:
    """Return the AccessToken these bytes verified to earlier in this process, if unexpired."""
    # Decoding and checking the signature was a sixth of an authenticated list page (issue 9).
    # An access token cannot be revoked (simplejwt blacklists refresh tokens only) and the
    # signing key is read once per process, so the bytes that verified once still do until
    # "exp"; the user row is still read on every request.
    hit = _verified.get(raw_token)
    if hit is None:
        return None
    token, expires = hit
    if datetime.now(UTC).timestamp() >= expires:
        _verified.pop(raw_token, None)
        return None
    return token


def remember_access_token(raw_token: bytes, token) -> None:
    """Keep a token that simplejwt verified, when it is an access token with an expiry."""
    if type(token) is not AccessToken or not isinstance(token.get("exp"), int | float):
        return
    if len(_verified) >= VERIFIED_TOKENS_KEPT:
        _verified.clear()
    leeway = api_settings.LEEWAY
    leeway = leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway)
    _verified[raw_token] = (token, float(token["exp"]) + leeway)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's JWTAuthentication with the user read by user_by_id and verified tokens kept."""

    def get_validated_token(self, raw_token):
        token = verified_access_token(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)
            remember_access_token(raw_token, token)
        return token

    def get_user(self, validated_token):
        user = self._read_user(validated_token)
        # The money checks ask whether this token's sign-in verified a one-time code.
        remember_token_on_user(user, validated_token)
        return user

    def _read_user(self, validated_token):
        if api_settings.USER_ID_FIELD not in ("id", "pk"):  # the compiled lookup is by id
            return super().get_user(validated_token)
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        except (TypeError, ValueError) as exc:
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from exc
        user = user_by_id(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                _("The user's password has been changed."), code="password_changed"
            )
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI bearer scheme of simplejwt's class, for this subclass."""

    target_class = JWTAuthentication

"""The second factor inside API tokens: written when a code was verified, asked when money moves.

A token outlives the rules it was issued under: a Support clerk signed in with a password and
moved to Finance afterwards holds a refresh token that rotation would renew for ever. So the
sign-in records in the token whether a one-time code was verified (RFC 8176's "amr" claim),
simplejwt copies the claim into every access token and every rotated refresh token, and the
refresh and the money checks refuse a token without it from a user who now needs a code.
"""

from gamarriando.errors import SecondFactorRequired
from gamarriando.staff_auth.rules import second_factor_required

AMR_CLAIM = "amr"
PASSWORD_ONLY = ("pwd",)
PASSWORD_AND_CODE = ("pwd", "otp")
# Set on the user by the API's JWT authentication (gamarriando.users.authentication). Absent
# for an admin session (the admin site asks django-otp itself) and for a script's actor.
USER_ATTRIBUTE = "token_has_second_factor"


def mark_sign_in(token, *, with_code: bool) -> None:
    """Record in a new token whether its sign-in verified a one-time code."""
    token[AMR_CLAIM] = list(PASSWORD_AND_CODE if with_code else PASSWORD_ONLY)


def has_second_factor(token) -> bool:
    """Tell whether a token was issued after a verified one-time code."""
    methods = token.get(AMR_CLAIM)
    return isinstance(methods, list) and "otp" in methods


def remember_token_on_user(user, token) -> None:
    """Note on the request's user whether the token it came with carries the second factor."""
    setattr(user, USER_ATTRIBUTE, has_second_factor(token))


def token_lacks_second_factor(user) -> bool:
    """True for a user signed in by an API token without the code they must now give."""
    return getattr(user, USER_ATTRIBUTE, True) is False and second_factor_required(user)


def require_token_second_factor(actor) -> None:
    """Refuse an actor whose API token was issued without the code their role now asks for.

    Raises:
        SecondFactorRequired: the token has no verified code and the actor needs one.
    """
    if token_lacks_second_factor(actor):
        raise SecondFactorRequired()

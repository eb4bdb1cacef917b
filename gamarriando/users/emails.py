"""The one spelling of an email under which its sign-ins are matched, counted and locked out."""


def sign_in_key(email: str) -> str:
    """Trim and lower-case an email as the throttles, the lockout and the user lookup all do."""
    return email.strip().lower()

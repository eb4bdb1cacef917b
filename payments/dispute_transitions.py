"""The allowed moves of a dispute's status, as a table (the gateway's word, never guessed)."""

from payments.models import DisputeStatus as S

OPEN = [S.WARNING_NEEDS_RESPONSE, S.WARNING_UNDER_REVIEW, S.NEEDS_RESPONSE, S.UNDER_REVIEW]
CLOSED = [S.WARNING_CLOSED, S.WON, S.LOST]
# Closed for good as far as the money goes: an inquiry's close (warning_closed) can still
# turn into a chargeback, a lost dispute only into a won one.
DECIDED = [S.WON, S.LOST]
# An inquiry (warning_*) can become a chargeback; a lost dispute can still be won on appeal
# or a card network's correction, which gives the money back. Nothing reopens a won one.
DISPUTE_TRANSITIONS: dict[str, set[str]] = {
    S.WARNING_NEEDS_RESPONSE: {S.WARNING_UNDER_REVIEW, S.WARNING_CLOSED, *OPEN[2:], *CLOSED},
    S.WARNING_UNDER_REVIEW: {S.WARNING_CLOSED, *OPEN[2:], *CLOSED},
    S.WARNING_CLOSED: {S.NEEDS_RESPONSE, S.UNDER_REVIEW, S.WON, S.LOST},
    S.NEEDS_RESPONSE: {S.UNDER_REVIEW, S.WON, S.LOST},
    S.UNDER_REVIEW: {S.NEEDS_RESPONSE, S.WON, S.LOST},
    S.LOST: {S.WON},
    S.WON: set(),
}


def dispute_may_move(from_status: str, to_status: str) -> bool:
    """True when the table allows the move (staying put is always allowed)."""
    return from_status == to_status or to_status in DISPUTE_TRANSITIONS.get(from_status, set())

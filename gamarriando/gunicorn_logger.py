"""gunicorn's access log with card-like numbers and shaped secrets redacted, as every log line."""

import logging
import re

from gunicorn.glogging import Logger

from gamarriando.logging import QUERY_STRING, redact_text

# The atoms gunicorn makes itself: the peer's address, the time, status, sizes, durations, the
# pid and the protocol it checked. Every other atom can carry what a client typed: the path,
# the query, the request line, the method, the referrer, the user agent, the Basic-auth user,
# and any {header}i, {header}o or {variable}e atom.
SERVER_ATOMS = frozenset({"h", "l", "t", "s", "b", "B", "T", "D", "M", "L", "p", "H"})
FORMAT_ATOM = re.compile(r"%\(([^)]*)\)")


def client_atoms(access_log_format: str) -> frozenset[str]:
    """Name the atoms of a format that carry client text, as gunicorn's atoms dict keys them."""
    # gunicorn looks a {...} atom up lower-cased (glogging.SafeAtoms).
    names = {
        name.lower() if name.startswith("{") else name
        for name in FORMAT_ATOM.findall(access_log_format)
    }
    return frozenset(names - SERVER_ATOMS)


class _CleanErrorLines(logging.Filter):
    """Drop the query and redact the rest of gunicorn's own error lines, as in the access line."""

    # They name the request too: "Error handling request /path?query".

    def filter(self, record):
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a malformed format must not crash the arbiter
            text = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact_text(QUERY_STRING.sub("", text)), None
        return True


CLEAN_ERROR_LINES = _CleanErrorLines()  # one instance: addFilter skips it on a second setup


class RedactingLogger(Logger):
    """Writes the access line gunicorn.conf.py formats, after redact_text on the client's text."""

    def setup(self, cfg):
        super().setup(cfg)
        # Only the atoms the line shows are redacted: the dict holds every header and every
        # environ variable, and redacting them all would cost each request for nothing.
        self.redacted_atoms = client_atoms(cfg.access_log_format)
        self.error_log.addFilter(CLEAN_ERROR_LINES)  # every level, gunicorn's calls included

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in self.redacted_atoms:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_text(atoms[key])
        return atoms

"""gunicorn's access log with card-like numbers and shaped secrets redacted, as every log line."""

from gunicorn.glogging import Logger

from gamarriando.logging import redact_text

# The atoms that carry what a client typed: the path, the request line, the query, the referrer.
CLIENT_TEXT_ATOMS = ("U", "r", "q", "f")


class RedactingLogger(Logger):
    """Writes the access line gunicorn.conf.py formats, after redact_text on the client's text."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in CLIENT_TEXT_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_text(atoms[key])
        return atoms

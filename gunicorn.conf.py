"""gunicorn reads this file from the working directory (the repo root, /app in the image)."""

import os

# The access log keeps the path without its query string (%(U)s, not the request line %(r)s)
# and no referrer: query values can carry tokens or card data.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'
# A card number typed into a URL's path is redacted like in every other log line.
logger_class = "gamarriando.gunicorn_logger.RedactingLogger"
# gunicorn believes X-Forwarded-Proto from loopback unless told otherwise: with no proxy in
# front (TRUSTED_PROXIES=0, as Django's settings read it) nobody is believed, so a client on
# this host cannot claim https; behind proxies Django's SECURE_PROXY_SSL_HEADER decides.
if int(os.environ.get("TRUSTED_PROXIES", "0") or 0) == 0:
    forwarded_allow_ips = ""

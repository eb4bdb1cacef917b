"""gunicorn reads this file from the working directory (the repo root, /app in the image)."""

# The access log keeps the path without its query string (%(U)s, not the request line %(r)s)
# and no referrer: query values can carry tokens or card data.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'

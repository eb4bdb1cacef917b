# One image for web, worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=gamarriando.settings.production

WORKDIR /app
# Every runtime package pinned with its hashes (make lock); a changed file on the index fails here.
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
# collectstatic loads the production settings, which need these, but never uses them. The keys
# are random per build: production refuses a key written in this repository.
RUN SECRET_KEY="$(head -c 48 /dev/urandom | base64)" JWT_SECRET_KEY="$(head -c 48 /dev/urandom | base64)" \
    ALLOWED_HOSTS=build.invalid EMAIL_URL=dummymail:// \
    DATABASE_URL=postgres://build.invalid/none REDIS_URL=redis://build.invalid:6379/0 \
    python manage.py collectstatic --no-input

RUN useradd --create-home app && mkdir -p /metrics/web /metrics/worker /metrics/webhooks && chown -R app /metrics
USER app
EXPOSE 8000
# 3 sync workers on 2 cores: 6 measured no better, the rows are CPU-bound (docs/benchmarks.md).
CMD ["gunicorn", "gamarriando.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30", "--access-logfile", "-"]

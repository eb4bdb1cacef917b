# One image for web, worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=gamarriando.settings.production

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs a secret but never uses it.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --no-input

RUN useradd --create-home app
USER app
EXPOSE 8000
CMD ["gunicorn", "gamarriando.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30", "--access-logfile", "-"]

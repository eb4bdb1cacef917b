"""Settings shapes: the embedded default and the production shape."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_django(settings_module, code, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG"}
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_shape_passes_check_deploy_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "gamarriando.settings.production",
            "SECRET_KEY": "Vq3-r9Zt_Lm8#Wp2@Hx6!Kd4%Nb7^Gs1&Yc5*Jf0(Ue8)Ta3=Rw6+Qz9",
            "ALLOWED_HOSTS": "pay.gamarriando.pe",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/gamarriando",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_shape_pools_postgres_connections_and_uses_redis():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['OPTIONS']['pool']['max_size'], s.CACHES['default']['BACKEND'], "
        "s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"
    )
    result = run_django(
        "gamarriando.settings.production",
        code,
        SECRET_KEY="k" * 60,
        DATABASE_URL="postgres://u@db:5432/g",
        REDIS_URL="redis://r:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "10",
        "django.core.cache.backends.redis.RedisCache",
        "False",
        "False",
    ]


def test_embedded_default_needs_nothing():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER); "
        "from payments.gateways.registry import enabled_gateway_names; print(enabled_gateway_names())"
    )
    result = run_django("gamarriando.settings.local", code, STRIPE_TEST_SECRET_KEY="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "True",
        "['simulated']",  # stripe is offered only once its keys are set
    ]

"""Run every migration on a scratch PostgreSQL database (CI); skip on SQLite."""

import os
import subprocess
import sys
import uuid

import environ

url = os.environ.get("DATABASE_URL", "")
if not url.startswith(("postgres://", "postgresql://")):
    print("migrate-check: DATABASE_URL is not PostgreSQL; skipping the real migrate.")
    sys.exit(0)

import psycopg  # noqa: E402

config = environ.Env.db_url_config(url)
scratch = f"gamarriando_migrate_{uuid.uuid4().hex[:8]}"
admin = psycopg.connect(
    host=config["HOST"],
    port=config["PORT"] or 5432,
    user=config["USER"],
    password=config["PASSWORD"] or None,
    dbname="postgres",
    autocommit=True,
)
admin.execute(f'CREATE DATABASE "{scratch}"')
try:
    env = dict(os.environ, DATABASE_URL=url.rsplit("/", 1)[0] + "/" + scratch)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "1"], check=True, env=env
    )
    print(f"migrate-check: all migrations applied on {scratch}.")
finally:
    admin.execute(f'DROP DATABASE "{scratch}" WITH (FORCE)')

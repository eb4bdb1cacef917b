# Gamarriando Payments: `make run` for the demo, `make test` for the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

# Every package, transitive ones included, pinned with its hashes (see "Supply chain" in README.md).
LOCK := requirements-dev.lock
# pip-compile writes its own header; this names the command that regenerates the files.
export CUSTOM_COMPILE_COMMAND := make lock
PIP_COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

.PHONY: install run test lint format migrate-check bench worker beat lock audit

# The manage.py, wsgi and celery defaults are the production settings; each target names its own.
run: export DJANGO_SETTINGS_MODULE = gamarriando.settings.local
test migrate-check: export DJANGO_SETTINGS_MODULE = gamarriando.settings.test
worker beat: export DJANGO_SETTINGS_MODULE ?= gamarriando.settings.local

# Only hashed, pinned files from the lock: a package that changed on the index fails the install.
$(VENV)/.installed: $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes -r $(LOCK)
	touch $@

install: $(VENV)/.installed

run: install
	@echo "Migrating the local SQLite database. The first run takes about a minute and a half (dj-stripe creates 62 tables), then about 25 s of demo history; it has not hung."
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_wallet_demo
	@echo ""
	@echo "Admin (back office): http://127.0.0.1:8000/admin/   API docs: http://127.0.0.1:8000/api/docs/"
	@echo "Try the API in another terminal, exactly as printed (scripts/curl_example.sh):"
	@echo ""
	@cat scripts/curl_example.sh | sed -n '/^API=/,$$p'
	@echo ""
	$(PY) manage.py runserver 127.0.0.1:8000

# ruff, then the import contract of docs/DESIGN.md ([tool.importlinter] in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# makemigrations --check, plus a real migrate when DATABASE_URL points at PostgreSQL.
migrate-check: install
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) scripts/migrate_check.py

test: lint migrate-check
	$(VENV)/bin/pytest

bench: install
	$(PY) bench/run.py

worker: install
	$(VENV)/bin/celery -A gamarriando worker -Q default,payments,events,maintenance,webhooks -l info

beat: install
	$(VENV)/bin/celery -A gamarriando beat -l info

# Regenerate both lock files from requirements.txt and requirements-dev.txt (after changing either).
# The image installs requirements.lock; the dev lock keeps the same versions of what they share.
lock: install
	$(PIP_COMPILE) -o requirements.lock requirements.txt
	$(PIP_COMPILE) -c requirements.lock -o requirements-dev.lock requirements-dev.txt

# Known vulnerabilities in every locked package (pip-audit asks PyPI's JSON API, so it needs the
# network and is not part of make test or CI). --strict: a package it could not look up fails the
# audit instead of passing as "no known vulnerabilities".
audit: install
	$(VENV)/bin/pip-audit --strict --disable-pip --require-hashes --progress-spinner off -r $(LOCK)

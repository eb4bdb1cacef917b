# Gamarriando Payments: `make run` for the demo, `make test` for the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install run test lint format migrate-check bench worker beat

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	@echo "Migrating the local SQLite database. The first run takes about a minute and a half (dj-stripe creates 62 tables); it has not hung."
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
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
	DJANGO_SETTINGS_MODULE=gamarriando.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(PY) scripts/migrate_check.py

test: lint migrate-check
	$(VENV)/bin/pytest

bench: install
	$(PY) bench/run.py

worker: install
	$(VENV)/bin/celery -A gamarriando worker -Q default,payments,events,maintenance -l info

beat: install
	$(VENV)/bin/celery -A gamarriando beat -l info

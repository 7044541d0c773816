# Anju: `make run` serves the portal, `make test` runs the whole suite. Both set up what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The demo city data-sharing platform (synthetic department records) for development.
PLATFORM_PORT ?= 8765
# The demo provincial identity provider (统一身份认证, OpenID Connect) for development.
IDP_PORT ?= 8766

# Development defaults; production sets DJANGO_DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL
# (the application's role) and DATABASE_OWNER_URL (the owner, for migrations; see README).
export DJANGO_DEBUG ?= true
ifeq ($(origin DATABASE_URL), undefined)
# The local cluster: the app connects as anju_app (no superuser, owns nothing); anju owns the
# schema and runs migrations and the tests (which create their own database).
export DATABASE_URL := postgis://anju_app@127.0.0.1:54329/anju
export DATABASE_OWNER_URL := postgis://anju@127.0.0.1:54329/anju
export ANJU_DB_APP_ROLE := anju_app
LOCAL_DB := 1
endif
export DATABASE_OWNER_URL ?= $(DATABASE_URL)
ifeq ($(DJANGO_DEBUG),true)
export SECRET_KEY_FILE ?= $(CURDIR)/.local/secret-key
# Keys for personal data at rest (archive/crypto.py); production sets its own.
export ANJU_DATA_KEYS_FILE ?= $(CURDIR)/.local/data-keys
export ANJU_BLIND_INDEX_KEY_FILE ?= $(CURDIR)/.local/blind-index-key
# A local CA and the organisation's contract-signing certificate (tenancy/devcerts.py).
export ANJU_SIGNING_P12_FILE ?= $(CURDIR)/.local/signing/organisation.p12
export ANJU_SIGNING_P12_PASSPHRASE ?= anju-development
export ANJU_SIGNING_TRUST_ROOTS ?= $(CURDIR)/.local/signing/ca.pem
export ANJU_DEMO_IDP_URL ?= http://127.0.0.1:$(IDP_PORT)
endif

.PHONY: help setup system venv assets messages db db-stop migrate demo run dev test lint format bench clean

help:
	@echo "make run      set up everything and serve http://$(HOST):$(PORT)"
	@echo "make test     set up everything and run the whole suite"
	@echo "make dev      like run, with Django's autoreloading server"
	@echo "make bench    benchmarks (bench/)"
	@echo "make db-stop  stop the local PostgreSQL cluster;  make clean  remove everything set up"

setup: system venv assets messages db .local/secret-key .local/data-keys .local/blind-index-key .local/signing/ca.pem .local/dev.env

system:
	@bash scripts/install-system-packages.sh

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

# Translations (locale/en ...): the .po files are committed, the compiled .mo files are not.
messages: $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
locale/%.mo: locale/%.po | system
	msgfmt --check -o $@ $<

assets: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.local/secret-key:
	@mkdir -p .local
	@python3 -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	@chmod 600 $@

# Losing these makes the development database's personal numbers unreadable: `make clean`
# removes both together.
.local/data-keys: | venv
	@mkdir -p .local
	@$(PY) -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > $@
	@chmod 600 $@

.local/signing/ca.pem: | venv
	@$(PY) -c "import sys; from pathlib import Path; from tenancy.devcerts import make_certificates; \
	  make_certificates(Path('.local/signing'), '亳州市公共租赁住房运营管理中心（开发）', sys.argv[1])" \
	  "$(ANJU_SIGNING_P12_PASSPHRASE)"

.local/blind-index-key:
	@mkdir -p .local
	@python3 -c "import secrets; print(secrets.token_urlsafe(48))" > $@
	@chmod 600 $@

# What `manage.py` typed by hand reads in a development checkout (see manage.py).
.local/dev.env: Makefile
	@mkdir -p .local
ifeq ($(DJANGO_DEBUG),true)
	@printf 'DJANGO_DEBUG=true\nSECRET_KEY_FILE=%s\nDATABASE_URL=%s\nANJU_DB_APP_ROLE=%s\n' \
	  "$(SECRET_KEY_FILE)" "$(DATABASE_OWNER_URL)" "$(ANJU_DB_APP_ROLE)" > $@
	@printf 'ANJU_DATA_KEYS_FILE=%s\nANJU_BLIND_INDEX_KEY_FILE=%s\n' \
	  "$(ANJU_DATA_KEYS_FILE)" "$(ANJU_BLIND_INDEX_KEY_FILE)" >> $@
	@printf 'ANJU_SIGNING_P12_FILE=%s\nANJU_SIGNING_P12_PASSPHRASE=%s\nANJU_SIGNING_TRUST_ROOTS=%s\n' \
	  "$(ANJU_SIGNING_P12_FILE)" "$(ANJU_SIGNING_P12_PASSPHRASE)" "$(ANJU_SIGNING_TRUST_ROOTS)" >> $@
else
	@rm -f $@; touch $@
endif

db: system
ifdef LOCAL_DB
	@bash scripts/local-db.sh start
endif

db-stop:
	@bash scripts/local-db.sh stop

migrate: setup
	DATABASE_URL=$(DATABASE_OWNER_URL) $(PY) manage.py migrate --noinput -v 0

demo: migrate
	$(PY) manage.py load_demo --if-empty --contracts 300

# Development (the default) gets the demo city and an admin; production only collects assets.
ifeq ($(DJANGO_DEBUG),true)
RUN_PREP := demo
else
RUN_PREP := migrate
endif

run: $(RUN_PREP)
ifeq ($(DJANGO_DEBUG),true)
	@$(PY) manage.py ensure_dev_superuser
else
	$(PY) manage.py collectstatic --noinput -v 0
endif
	@echo "Anju is serving on http://$(HOST):$(PORT)/ (the publication worker runs beside it)"
	@$(PY) manage.py run_worker & worker=$$!; \
	  if [ "$(DJANGO_DEBUG)" = true ]; then $(PY) -m exchange.demo_platform --port $(PLATFORM_PORT) --cases-file .local/demo-cases.jsonl & platform=$$!; \
	    $(PY) -m exchange.demo_idp --port $(IDP_PORT) --key-file .local/demo-idp-key.json & idp=$$!; fi; \
	  trap 'kill $$worker $$platform $$idp 2>/dev/null' EXIT INT TERM; \
	  $(VENV)/bin/gunicorn portal.wsgi -c portal/gunicorn.conf.py --bind $(HOST):$(PORT) --workers 3

dev: demo
	@$(PY) manage.py ensure_dev_superuser
	@$(PY) manage.py run_worker & worker=$$!; \
	  $(PY) -m exchange.demo_platform --port $(PLATFORM_PORT) --cases-file .local/demo-cases.jsonl & platform=$$!; \
	  $(PY) -m exchange.demo_idp --port $(IDP_PORT) --key-file .local/demo-idp-key.json & idp=$$!; \
	  trap 'kill $$worker $$platform $$idp 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports
	DATABASE_URL=$(DATABASE_OWNER_URL) $(VENV)/bin/pytest

bench: demo
	$(PY) bench/run.py
	$(PY) bench/billing.py
	$(PY) bench/recheck.py
	$(PY) bench/batch_download.py
	$(PY) bench/standard_export.py
	$(PY) bench/dashboards.py
	$(PY) bench/public_load.py
	$(PY) bench/stock_summary.py
	@if [ "$$BENCH_NATIONAL" = 1 ]; then $(PY) bench/national.py; else \
	  echo "bench/national.py skipped (16,000,000 units, long): BENCH_NATIONAL=1 make bench runs it"; fi

clean: db-stop
	rm -rf .local $(VENV) node_modules staticfiles .pytest_cache .ruff_cache

# Crossover — `make dev` runs everything, `make test` runs the whole suite. Both install first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The first interpreter >= 3.12 among the usual names. Each candidate is run, not just looked up:
# pyenv shims for python3.12 may exist on PATH and still fail when that version is not active.
ifndef PYTHON
PYTHON := $(shell for c in python3.13 python3.12 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null) python3; do \
	if $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo $$c; break; fi; done)
endif

export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: help dev test lint format migrate seed install browser adr-tools clean

help:
	@echo "make dev    – install, migrate, load demo data and run web + worker + beat (PORT=$(PORT))"
	@echo "make test   – install dev dependencies and run the whole test suite"
	@echo "make lint   – ruff check + format check"

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "Crossover needs Python >= 3.12: install python3.12 (or newer) and retry." >&2; exit 1; fi
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Development defaults: SQLite (WAL) and the filesystem broker under var/, private targets allowed.
dev: export DEBUG ?= 1
dev: export ALLOW_PRIVATE_NETWORK_TARGETS ?= 1
dev: export WEB_PORT := $(PORT)
dev: export DEMO_LLM_PORT ?= 8089
dev: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Crossover is starting on http://127.0.0.1:$(PORT)/  —  log in as demo / demo"
	@echo "  API docs: http://127.0.0.1:$(PORT)/api/docs/   (Ctrl-C stops everything)"
	@echo "  Simulated model endpoint (OpenAI-compatible): http://127.0.0.1:$(DEMO_LLM_PORT)/v1"
	@echo ""
	exec $(VENV)/bin/honcho -f Procfile.dev start

migrate: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput

seed: $(STAMP)
	DEBUG=1 $(PY) manage.py seed_demo

# Browser tests drive Debian's Chromium; install it when missing (root) or fail clearly.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "Browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# The ADR tests read and write with the real tools: Debian's adr-tools (root, as Chromium) and
# Log4brains 1.1.0 from npm, installed into the git-ignored .tools/.
LOG4BRAINS := .tools/log4brains/node_modules/.bin/log4brains
adr-tools:
	@command -v adr >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq adr-tools >/dev/null; \
		else echo "ADR tests need adr-tools: sudo apt-get install adr-tools" >&2; exit 1; fi; }
	@[ -x $(LOG4BRAINS) ] || { command -v npm >/dev/null 2>&1 || { echo "ADR tests need npm (apt-get install npm)" >&2; exit 1; }; \
		npm install --silent --no-audit --no-fund --prefix .tools/log4brains log4brains@1.1.0 >/dev/null; }

test: export DEBUG := 1
test: export SECRET_KEY := test-secret-key
test: export ALLOW_PRIVATE_NETWORK_TARGETS := 0
test: $(STAMP) browser adr-tools
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var/celery var/staticfiles

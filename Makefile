# Viva — the two commands first:
#   make run    install, migrate, seed the demo portals, serve http://<tenant>.localhost:8000
#   make test   install and run the whole test suite (PostgreSQL, Chromium; Redis if REDIS_URL)
PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT   ?= 8000

.PHONY: run test install migrate seed serve worker bench lint format clean-db help

run: install  ## install, migrate, seed demo tenants, serve on :8000
	$(MANAGE) setup_tenancy --demo
	$(MANAGE) runserver 0.0.0.0:$(PORT)

test: install  ## lint, then the full suite on PostgreSQL with a real browser
	@scripts/ensure-chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 --dist loadfile

install: $(VENV)/.installed  ## create .venv and install the locked dependencies

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null
	$(BIN)/python -m pip install -q uv==0.13.8
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --quiet
	touch $@

migrate: install  ## migrate public, the template, spares and every tenant; refill the pool
	$(MANAGE) setup_tenancy

seed: install  ## create the demo portals uni, acme, press (development only)
	$(MANAGE) seed_demo

serve: install  ## the development server for every host on port $(PORT)
	$(MANAGE) runserver 0.0.0.0:$(PORT)

worker: install  ## a Celery worker with beat (needs REDIS_URL)
	$(BIN)/celery -A config worker -B -l INFO

bench: install  ## benchmarks; results in bench/results/
	$(BIN)/python bench/provisioning.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/autosave.py
	$(BIN)/python bench/plagiarism.py
	$(BIN)/python bench/analytics.py

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

clean-db:  ## delete the embedded database and media under .var/
	rm -rf .var/postgres .var/media

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

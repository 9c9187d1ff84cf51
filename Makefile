# Targets a newcomer can guess: run, test, lint, bench. Each creates the environment first.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: env run test test-unit test-integration lint format bench requirements clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

env: $(UV)
	$(UV) sync --frozen

run: env
	$(UV) run agenthub dev

test: env
	$(UV) run pytest --cov --cov-report=term --cov-fail-under=80

test-unit: env
	$(UV) run pytest tests/unit

test-integration: env
	$(UV) run pytest tests/integration

lint: env
	$(UV) run ruff check layers functions tests bench migrations
	$(UV) run ruff format --check layers functions tests bench migrations
	$(UV) run mypy layers/runtime/agenthub

format: env
	$(UV) run ruff format layers functions tests bench migrations
	$(UV) run ruff check --fix layers functions tests bench migrations

bench: env
	$(UV) run python bench/run_all.py

# The layer's requirements, generated from the lock file (sam build installs these).
requirements: $(UV)
	$(UV) export --frozen --no-dev --no-emit-project --no-hashes --format requirements-txt \
		-o layers/runtime/requirements.txt

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .coverage .aws-sam

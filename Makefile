# The two commands of the README: `make run` and `make test`. Both install what they need, from
# the hashed lock files in requirements/ that `make lock` writes.
PYTHON ?= python3
LOCKS := requirements
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The LiteLLM proxy, a gateway we did not write, in its own environment: its pins clash with ours.
# Its version is the one pinned in requirements/litellm.in (the long-term-support line; never
# 1.107.0, a compromised release); requirements/litellm.txt locks it and its dependencies.
LITELLM := .litellm
LITELLM_VERSION := $(shell sed -n 's/^litellm\[proxy\]==//p' $(LOCKS)/litellm.in)
LITELLM_STAMP := $(LITELLM)/.installed-$(LITELLM_VERSION)

.PHONY: run test lint types pytest simulator bench bench-shards lock clean

# Every package at its locked version and hash; then videobot itself, which brings nothing more.
$(PY_STAMP): pyproject.toml $(LOCKS)/build.txt $(LOCKS)/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCKS)/build.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCKS)/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Rewrites the lock files from pyproject.toml and requirements/build.in for Python 3.11 and later
# on every platform, keeping the pins that still fit; `make lock LOCK_FLAGS=--upgrade` takes the
# newest releases allowed. dev.txt is held to main.txt's pins, so the image runs what was tested.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_FLAGS)
lock: $(PY_STAMP)
	$(UV_COMPILE) $(LOCKS)/build.in -o $(LOCKS)/build.txt
	$(UV_COMPILE) pyproject.toml -o $(LOCKS)/main.txt
	$(UV_COMPILE) pyproject.toml --extra dev -c $(LOCKS)/main.txt -o $(LOCKS)/dev.txt
	$(UV_COMPILE) $(LOCKS)/litellm.in -o $(LOCKS)/litellm.txt

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Only the lock file: building the proxy's environment never touches $(VENV).
$(LITELLM_STAMP): $(LOCKS)/litellm.txt
	rm -rf $(LITELLM)
	$(PYTHON) -m venv $(LITELLM)
	$(LITELLM)/bin/python -m pip install --quiet --require-hashes -r $(LOCKS)/litellm.txt
	touch $@

run: $(PY_STAMP)
	$(BIN)/python -m bot run

simulator: $(PY_STAMP)
	$(BIN)/python -m bot simulator

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/lint-imports --no-cache

types: $(PY_STAMP)
	$(BIN)/mypy

pytest: $(PY_STAMP) $(NODE_STAMP) $(LITELLM_STAMP)
	$(BIN)/python -m pytest

test: lint types pytest

bench: $(PY_STAMP) $(LITELLM_STAMP)
	$(BIN)/python bench/tracker.py --jobs 1000
	$(BIN)/python bench/interactions.py
	$(BIN)/python bench/budget.py
	$(BIN)/python bench/delivery.py fit
	$(BIN)/python bench/delivery.py faults
	$(BIN)/python bench/providers.py
	$(BIN)/python bench/media_load.py
	$(BIN)/python bench/decode8k.py

# 1, 2 and 4 processes on one PostgreSQL database (the tests' embedded server), 10,000 jobs.
bench-shards: $(PY_STAMP)
	$(BIN)/python bench/shards.py

clean:
	rm -rf $(VENV) $(LITELLM) node_modules .mypy_cache .pytest_cache .ruff_cache

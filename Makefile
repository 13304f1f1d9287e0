# The two commands of the README: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test lint types pytest simulator bench clean

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(PY_STAMP)
	$(BIN)/python -m bot run

simulator: $(PY_STAMP)
	$(BIN)/python -m bot simulator

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

types: $(PY_STAMP)
	$(BIN)/mypy

pytest: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest

test: lint types pytest

bench: $(PY_STAMP)
	$(BIN)/python bench/tracker.py --jobs 1000
	$(BIN)/python bench/interactions.py

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache

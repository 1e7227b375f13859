# Every target builds what it needs itself: a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PATH := $(CURDIR)/$(BIN):$(PATH)

## demo: the main job on the built-in sandbox: export a collection to exports/ as CSV and JSON
.PHONY: bench demo docs setup generate check-generated lint format typecheck test test-fast clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## setup: create .venv and install the project with its development tools
setup: $(STAMP)

## generate: compile spec/discogs.yaml into generated/ (client, models, spec bundle)
generate: setup
	$(BIN)/python scripts/generate.py

## check-generated: fail, showing the diff, when generated/ differs from what the spec compiles into
check-generated: setup
	$(BIN)/python scripts/check_generated.py

## docs: regenerate docs/api_reference.md from the spec and the generated facade
docs: setup
	$(BIN)/python scripts/docs.py

## lint: ruff (lint + format check) and mypy on the hand-written code
lint: setup
	$(BIN)/ruff check overlay scripts tests examples benchmarks
	$(BIN)/ruff format --check overlay scripts tests examples benchmarks
	$(BIN)/mypy

## format: apply ruff formatting and safe fixes
format: setup
	$(BIN)/ruff check --fix overlay scripts tests examples benchmarks
	$(BIN)/ruff format overlay scripts tests examples benchmarks

demo: setup
	$(BIN)/python scripts/demo.py --out-dir exports

BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp

$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

## bench: musicagent side by side with other Discogs clients on the sandbox (about 25 min; BENCH_ARGS=--quick: 1 min)
bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m benchmarks.run $(BENCH_ARGS)

## test: everything CI runs — spec checks, generated drift, lint, and the test suites
test: setup check-generated lint
	$(BIN)/python scripts/docs.py --check
	$(BIN)/python -m coverage run -m pytest
	$(BIN)/python -m coverage report

## test-fast: the test suites only
test-fast: setup
	$(BIN)/python -m pytest -x -q

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .mypy_cache .ruff_cache

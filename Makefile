PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test test-fast lint docs smoke wheel-check bench clean

install:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'

# Two processes (pytest-xdist), each test file whole in one of them (module fixtures run once).
test:
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# Everything except tests marked `slow` (CLI subprocesses, real training); see tests/conftest.py.
test-fast:
	$(BIN)/python -m pytest -q -m "not slow" --hypothesis-profile fast

lint:
	$(BIN)/ruff check mnist_cli tests benchmarks

# The documentation site (docs/ + mkdocs.yml) into site/; --strict: a warning (a broken link or
# anchor, a page missing from the nav) fails the build. docs/hooks.py generates the references.
docs:
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

smoke:
	bash scripts/smoke.sh

# Build sdist + wheel, install the wheel outside the clone, run the quick start from elsewhere.
wheel-check:
	PY=$(abspath $(BIN))/python bash scripts/wheel_check.sh

bench:
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) runs .pytest_cache build dist site

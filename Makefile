PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test test-extended test-fast lint docs smoke wheel-check bench bench-peers clean

install:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'

# Two processes (pytest-xdist), each test file whole in one of them (module fixtures run once).
# `extended` tests (exhaustive sweeps, cross-checks) are left out to keep it under 5 min.
test:
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not extended"

# The sweeps and cross-checks `make test` leaves out; CI runs both.
test-extended:
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m extended

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

# In-process contenders and side measurements (bench.py), then the peer table: mnist-cli
# against Keras fit (TF, JAX), pure JAX and PyTorch, each a whole process (bench_peers.py).
# Both write benchmarks/results.json (the peers under "peers"); see docs/benchmarks.md.
bench:
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/bench_peers.py

bench-peers:
	$(BIN)/python benchmarks/bench_peers.py

clean:
	rm -rf $(VENV) runs .pytest_cache build dist site

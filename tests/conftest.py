"""Shared fixtures and the fast lane. Tests never read ../shared: they make their own data.

`make test-fast` runs `pytest -m "not slow"`. A test is slow when it is marked so, or when
it uses (directly or through other fixtures) the subprocess fixture `cli_env`, a fixture
decorated with `tests.helpers.slow_fixture` or one named in `tests.helpers.SLOW_FIXTURES`:
new test files that start the CLI through `cli_env` leave the fast lane without anyone
remembering to mark them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from mnist_cli.data.types import Dataset
from tests.helpers import TrainRun, is_slow, make_digits_dataset, slow_fixture

# Quiet TensorFlow in every test process and any subprocess it starts.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# A library internal that mnist_cli.compat patches and finds missing or changed is an error
# (CompatError) in every test process and subprocess, not the users' one-line warning.
os.environ.setdefault("MNIST_CLI_STRICT_COMPAT", "1")
# pytest-xdist workers inherit COLUMNS=80/LINES=24 from the controller's terminal writer; a rich
# Console created at import would freeze that width, while a test asking for COLUMNS=200 gets
# 200 in a plain run. Tests set the width they mean; no inherited one.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

# `make test-fast` passes `--hypothesis-profile fast`: fewer examples per property test.
settings.register_profile("fast", max_examples=25)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark slow every test that `tests.helpers.is_slow` finds slow (see the module docstring)."""
    for item in items:
        if is_slow(item) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for subprocess CLI runs: no network data dirs, unbuffered output."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["KERAS_HOME"] = str(tmp_path / "keras_home")
    env["TFDS_DATA_DIR"] = str(tmp_path / "tfds")
    return env


@pytest.fixture(scope="session")
def digits_dataset() -> Dataset:
    """sklearn's 8x8 digits split 1200 / 200 / 397 by the tests themselves (shared, read-only)."""
    return make_digits_dataset()


@pytest.fixture(scope="session")
@slow_fixture
def train_run(digits_dataset: Dataset) -> TrainRun:
    """`train_run(run_dir, output="logits", epochs=4)`: a short real in-process training run
    of mlp_relu on `digits_dataset` (seed 0); returns the run directory and the data."""

    def train(run_dir: Path, output: str = "logits", epochs: int = 4) -> tuple[Path, Dataset]:
        from mnist_cli.config import Overrides, resolve_config
        from mnist_cli.training import run_training

        cfg = resolve_config("mlp_relu", Overrides(epochs=epochs, seed=0, data="digits",
                                                   output=output))
        run_training(cfg, run_dir, dataset=digits_dataset)
        return run_dir, digits_dataset

    return train

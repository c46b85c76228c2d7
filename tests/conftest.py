"""Shared fixtures. Tests never read ../shared: they make their own small data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Quiet TensorFlow in every test process and any subprocess it starts.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for subprocess CLI runs: no network data dirs, unbuffered output."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["KERAS_HOME"] = str(tmp_path / "keras_home")
    env["TFDS_DATA_DIR"] = str(tmp_path / "tfds")
    return env


def cli_cmd(*args: str) -> list[str]:
    """Run the CLI as `python -m mnist_cli` with this interpreter."""
    return [sys.executable, "-m", "mnist_cli", *args]

"""`--deterministic` / `training.deterministic`: with it, the same seed gives identical metrics
and weights, and TensorFlow's op determinism is really switched on; without it, the choice is
recorded and op determinism is left off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from mnist_cli.cli.app import app

VOLATILE = {"train_seconds", "eval_seconds", "samples_per_second", "run_dir", "command",
            "versions", "timings"}
pytestmark = pytest.mark.slow  # every test here trains

TRAIN = ["train", "--data", "digits", "--epochs", "2", "--no-plots", "-q"]


@pytest.fixture
def op_determinism_off() -> Iterator[object]:
    """TensorFlow's process-wide op determinism, switched off for the test and restored."""
    from tensorflow.python.framework import config as tf_config

    was = tf_config.is_op_determinism_enabled()
    tf_config.disable_op_determinism()
    yield tf_config
    (tf_config.enable_op_determinism if was else tf_config.disable_op_determinism)()


def train(run: Path, *flags: str) -> tuple[dict, list[np.ndarray]]:
    """One real CLI training run; its metrics.json and final weights."""
    from mnist_cli.backend import import_keras

    result = CliRunner().invoke(app, [*TRAIN, *flags, "--run-dir", str(run)])
    assert result.exit_code == 0, (result.stderr, result.exception)
    metrics = json.loads((run / "metrics.json").read_text())
    weights = import_keras().models.load_model(run / "model.keras").get_weights()
    return metrics, weights


def saved_deterministic(run: Path) -> bool:
    return yaml.safe_load((run / "config.yaml").read_text())["training"]["deterministic"]


def test_deterministic_runs_with_one_seed_are_identical(tmp_path: Path,
                                                        op_determinism_off: object) -> None:
    m1, w1 = train(tmp_path / "a", "--seed", "11", "--deterministic")
    assert op_determinism_off.is_op_determinism_enabled()  # type: ignore[attr-defined]
    m2, w2 = train(tmp_path / "b", "--seed", "11", "--set", "training.deterministic=true")
    assert saved_deterministic(tmp_path / "a") is saved_deterministic(tmp_path / "b") is True
    assert {k: v for k, v in m1.items() if k not in VOLATILE} == \
        {k: v for k, v in m2.items() if k not in VOLATILE}
    assert (tmp_path / "a" / "history.csv").read_text() == \
        (tmp_path / "b" / "history.csv").read_text()
    assert len(w1) == len(w2) > 0
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_array_equal(a, b)


def test_no_deterministic_is_recorded_and_leaves_op_determinism_off(
        tmp_path: Path, op_determinism_off: object) -> None:
    metrics, _ = train(tmp_path / "n", "--seed", "5", "--epochs", "1", "--no-deterministic")
    assert metrics["status"] == "completed"
    assert saved_deterministic(tmp_path / "n") is False
    assert not op_determinism_off.is_op_determinism_enabled()  # type: ignore[attr-defined]


def test_seed_is_recorded_when_not_given(tmp_path: Path) -> None:
    metrics, _ = train(tmp_path / "r", "--epochs", "1")
    assert isinstance(metrics["seed"], int) and metrics["seed"] >= 0
    saved = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    assert saved["training"]["seed"] == metrics["seed"]

"""Divergence: a run stops at the first bad loss/output, says why, and keeps the last good epoch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.errors import RunFailed
from mnist_cli.training.guards import likely_causes
from tests.helpers import run_cli

RELU_OUTPUT = """
name: relu_out
model:
  output: logits
  layers:
    - Flatten: {}
    - Dense: {units: 25, activation: relu}
    - Dense: {units: 10, activation: relu}
training: {optimizer: adam, learning_rate: 0.01, epochs: 2, batch_size: 128, seed: 3}
data: {spec: digits, validation_split: 0.1}
"""


def test_relu_output_with_probabilities_fails_clearly(tmp_path: Path, cli_env: dict) -> None:
    """The seed notebook's case: ReLU on the output layer with probability outputs."""
    cfg = tmp_path / "relu_out.yaml"
    cfg.write_text(RELU_OUTPUT)
    run = tmp_path / "run"
    proc = run_cli("train", "-c", str(cfg), "--set", "model.output=probabilities",
                   "--run-dir", str(run), "--quiet", env=cli_env)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "training diverged" in proc.stderr and "relu activation on the output" in proc.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "failed"
    failure = metrics["failure"]
    assert failure["epoch"] == 1
    assert "not probabilities" in failure["reason"]
    assert "relu activation on the output layer" in failure["likely_causes"][0]
    assert not (run / "model.keras").exists()  # no model of a failed run posing as a result


def poison_at(epoch: int, step: int) -> Any:
    """A callback that sets the output bias to NaN at (epoch, step), 1-based: a fault."""
    from mnist_cli.backend import import_keras

    keras = import_keras()

    class Poison(keras.callbacks.Callback):
        every_batch = True  # acts on one exact step: one step per call

        def on_epoch_begin(self, e: int, logs: dict | None = None) -> None:
            self.epoch = e + 1

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if (self.epoch, batch + 1) == (epoch, step):
                w = self.model.trainable_variables[-1]  # output bias
                w.assign(np.full(w.shape, np.nan, dtype="float32"))

    return Poison()


@pytest.mark.slow
def test_nan_loss_stops_at_first_bad_step_and_keeps_last_good(tmp_path: Path) -> None:
    from mnist_cli.backend import import_keras
    from mnist_cli.training import run_training

    cfg = resolve_config("mlp_relu", Overrides(epochs=3, seed=5, data="digits"))
    run = tmp_path / "run"
    with pytest.raises(RunFailed) as info:
        run_training(cfg, run, callbacks=[poison_at(2, 3)])
    assert "loss became nan at epoch 2, step 4" in str(info.value)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "failed"
    assert (metrics["failure"]["epoch"], metrics["failure"]["step"]) == (2, 4)
    assert metrics["epochs_completed"] == 1
    history = (run / "history.csv").read_text().splitlines()
    assert len(history) == 2 and "nan" not in history[1].lower()  # header + epoch 1 only
    good = import_keras().models.load_model(run / "last_good.keras")
    assert all(np.isfinite(w).all() for w in good.get_weights())


@pytest.mark.parametrize(("sets", "expected"), [
    ({"training": {"learning_rate": 10.0}}, "learning rate 10 is too high for adam"),
    ({"training": {"optimizer": "sgd", "learning_rate": 5.0}}, "learning rate 5 is too high"),
    ({"data": {"scale": False}}, "pixels are not scaled"),
    ({}, "no config problem recognised"),
])
def test_likely_causes(sets: dict, expected: str) -> None:
    cfg = resolve_config("mlp_relu")
    for section, values in sets.items():
        for key, value in values.items():
            setattr(getattr(cfg, section), key, value)
    assert any(expected in cause for cause in likely_causes(cfg))

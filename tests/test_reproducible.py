"""Same seed, same run: identical metrics.json numbers and identical weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mnist_cli.cli.options import make_overrides
from mnist_cli.config import Overrides, resolve_config

VOLATILE = {"train_seconds", "eval_seconds", "samples_per_second", "run_dir", "command",
            "versions"}


def train_once(run: Path, seed: int | None = 11) -> tuple[dict, list[np.ndarray]]:
    from mnist_cli.tfenv import import_keras
    from mnist_cli.train import run_training

    cfg = resolve_config("mlp_relu", Overrides(data="digits", epochs=2, seed=seed))
    assert cfg.training.deterministic  # on by default
    run_training(cfg, run)
    metrics = json.loads((run / "metrics.json").read_text())
    weights = import_keras().models.load_model(run / "model.keras").get_weights()
    return metrics, weights


def test_same_seed_gives_identical_metrics_and_weights(tmp_path: Path) -> None:
    m1, w1 = train_once(tmp_path / "a")
    m2, w2 = train_once(tmp_path / "b")
    assert {k: v for k, v in m1.items() if k not in VOLATILE} == \
        {k: v for k, v in m2.items() if k not in VOLATILE}
    assert (tmp_path / "a" / "history.csv").read_text() == \
        (tmp_path / "b" / "history.csv").read_text()
    assert len(w1) == len(w2) > 0
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_array_equal(a, b)


def test_seed_is_recorded_when_not_given(tmp_path: Path) -> None:
    metrics, _ = train_once(tmp_path / "r", seed=None)
    assert isinstance(metrics["seed"], int) and metrics["seed"] >= 0
    saved = (tmp_path / "r" / "config.yaml").read_text()
    assert f"seed: {metrics['seed']}" in saved


def test_deterministic_flag_reaches_the_config() -> None:
    for flag, expected in ((["training.deterministic=False"], False),
                           (["training.deterministic=True"], True)):
        cfg = resolve_config("mlp_relu", make_overrides(sets=flag))
        assert cfg.training.deterministic is expected

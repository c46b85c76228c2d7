"""Variants that train identically are reported as such, with why (issue 29): on TensorFlow
`--output probabilities` and `--output logits` are one training."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnist_cli.comparison import build_variants
from mnist_cli.comparison.pairs import pair_tests
from mnist_cli.comparison.types import ComparisonRuns, RunOutcome

Y = np.arange(40) % 10


def runs(backend: str, same: bool) -> ComparisonRuns:
    """relu-probabilities vs relu-logits over two seeds, as the runs' records would hold."""
    variants = build_variants(activations=["relu"], outputs=["probabilities", "logits"])
    outcomes = []
    for i, v in enumerate(variants):
        for seed in (1, 2):
            wrong = 0 if same or i == 0 else seed  # the second variant misses `seed` digits
            preds = Y.copy()
            preds[:wrong] = (preds[:wrong] + 1) % 10
            history = {"loss": [2.0, 1.0 + (0 if same or i == 0 else 1e-7)]}
            outcomes.append(RunOutcome(v.name, seed, Path(v.name), "completed",
                                       {"backend": backend, "test_accuracy": 1.0}, history,
                                       preds))
    return ComparisonRuns(Path("c"), variants, [1, 2], outcomes, Y, {})


def test_identical_training_is_explained_on_tensorflow() -> None:
    _, (pair,) = pair_tests(runs("tensorflow", same=True), ["relu-probabilities",
                                                            "relu-logits"])
    assert "cannot tell them apart" in pair["sentence"]
    assert pair["identical"].startswith("relu-probabilities and relu-logits trained "
                                        "identically (bit for bit")
    assert "Keras on TensorFlow computes a softmax output's loss from the logits" in \
        pair["sentence"]


def test_identical_elsewhere_gets_the_general_reason_and_different_runs_none() -> None:
    _, (pair,) = pair_tests(runs("jax", same=True), ["relu-probabilities", "relu-logits"])
    assert "does not change training" in pair["identical"]
    assert "TensorFlow" not in pair["identical"]
    _, (pair,) = pair_tests(runs("tensorflow", same=False), ["relu-probabilities",
                                                             "relu-logits"])
    assert pair["identical"] is None and "Note:" not in pair["sentence"]

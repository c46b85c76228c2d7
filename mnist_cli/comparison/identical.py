"""Two variants that trained identically, and why.

A test that "cannot tell them apart" is the weakest thing it can say, yet two variants can
be one training run in disguise: the seed's softmax-vs-ReLU grid with both outputs, on
TensorFlow, trains relu-probabilities and relu-logits to the same loss at every epoch and
the same prediction on every test digit, because Keras on TensorFlow computes a softmax
output's loss from the logits under it (on JAX it does not, and they differ). The report
says so, and why, instead of only that the test could not tell them apart.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mnist_cli.comparison.types import ComparisonRuns, RunOutcome
from mnist_cli.comparison.variants import Variant


def trained_identically(a: list[RunOutcome], b: list[RunOutcome]) -> bool:
    """Every seed: the same history, bit for bit, and the same test predictions."""
    return bool(a) and len(a) == len(b) and all(
        ra.history == rb.history and ra.predictions is not None
        and rb.predictions is not None and np.array_equal(ra.predictions, rb.predictions)
        for ra, rb in zip(a, b, strict=True))


def only_output_differs(a: Variant, b: Variant) -> bool:
    """The two configs differ in `model.output` and nothing else (names aside)."""
    ca, cb = a.config, b.config
    return (ca.model.output != cb.model.output
            and replace(ca, name=cb.name, model=replace(ca.model, output=cb.model.output)) == cb)


def why_identical(comp: ComparisonRuns, a: str, b: str) -> str | None:
    """The note for a pair that trained identically (None for any other pair)."""
    runs_a, runs_b = comp.runs_of(a), comp.runs_of(b)
    if not trained_identically(runs_a, runs_b):
        return None
    seeds = "every seed" if len(runs_a) > 1 else "its seed"
    head = (f"{a} and {b} trained identically (bit for bit: every epoch's loss and every "
            f"test prediction, {seeds})")
    variants = {v.name: v for v in comp.variants}
    backends = {r.metrics.get("backend") for r in runs_a + runs_b}
    if only_output_differs(variants[a], variants[b]) and backends == {"tensorflow"}:
        return (f"{head}, because Keras on TensorFlow computes a softmax output's loss from "
                "the logits under it, so --output probabilities and --output logits are one "
                "training there; on JAX (--backend jax) they differ")
    return (f"{head}: what differs between them does not change training, so no test can "
            "separate them")

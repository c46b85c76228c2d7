"""The comparison's data types, in their own module so that run, summary, report and plot all
import them from here and never from each other (no import cycle in mnist_cli.comparison)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnist_cli.comparison.variants import Variant


@dataclass
class RunOutcome:
    """One variant trained with one seed: its metrics and test-set predicted labels."""

    variant: str
    seed: int
    run_dir: Path
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    predictions: np.ndarray | None = None
    error: str | None = None


@dataclass
class ComparisonRuns:
    """Everything a comparison produced (the API hands it out as `results.Comparison`);
    `summary` is the JSON object (set by the report)."""

    compare_dir: Path
    variants: list[Variant]
    seeds: list[int]
    outcomes: list[RunOutcome]
    y_test: np.ndarray
    dataset: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)
    validation: bool = True
    """Whether the data had a validation split (the ranking uses it; else test data)."""
    chief: bool = True
    """False on multi-worker tasks other than the chief, which keep no files."""

    def runs_of(self, name: str) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.variant == name]


Finished = Callable[[RunOutcome, int, int], None]
"""Told of each finished sub-run: (its outcome, how many have finished, how many in all)."""

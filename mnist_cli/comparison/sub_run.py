"""One compare sub-run: a variant trained with one seed on the shared data, under the
sub-run directory's lock; divergence makes it a failed outcome, not an error. Used by the
sequential loop (`comparison.run`) and by the worker processes (`comparison.parallel`)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np

from mnist_cli.comparison.types import RunOutcome
from mnist_cli.comparison.variants import Variant
from mnist_cli.data.types import Dataset
from mnist_cli.distribute import StrategyDescription
from mnist_cli.errors import RunFailed
from mnist_cli.runs.rundir import write_metrics


def divergence(history: dict[str, list[float]], outputs: Any) -> str | None:
    """Why a finished run must count as failed (NaN/inf loss or outputs), else None."""
    for epoch, loss in enumerate(history.get("loss", []), start=1):
        if not math.isfinite(loss):
            return (f"training loss became {loss} at epoch {epoch} (the run diverged); "
                    "lower --learning-rate or pick another optimizer")
    if outputs is not None and not np.isfinite(np.asarray(outputs)).all():
        return "test outputs contain NaN/inf (the run diverged); lower --learning-rate"
    return None


def sub_run_label(name: str, seed: int, repeats: int) -> str:
    """How progress names a sub-run: the variant, and its seed when there are several."""
    return name if repeats == 1 else f"{name} seed {seed}"


def mark_failed(run_dir: Path, metrics: dict[str, Any], cause: str) -> dict[str, Any]:
    """Rewrite the sub-run's metrics.json so the directory itself says it failed."""
    metrics = {**metrics, "status": "failed", "error": cause}
    if run_dir.exists():
        write_metrics(run_dir, metrics)
    return metrics


def train_one(variant: Variant, seed: int, run_dir: Path, dataset: Dataset, *,
              strategy: Any, callbacks: list[Any], command: list[str] | None,
              strategy_desc: StrategyDescription | None = None) -> RunOutcome:
    """run_training on the shared data, holding the sub-run's lock; divergence becomes a
    failed outcome, not an error (the engine's guard stops a non-finite run itself)."""
    from mnist_cli.backend import import_keras
    from mnist_cli.runs.lock import hold
    from mnist_cli.training import run_training

    keras = import_keras()
    cfg = copy.deepcopy(variant.config)
    cfg.training.seed = seed
    try:
        with hold(run_dir, "compare sub-run", fresh=True):
            result = run_training(cfg, run_dir, dataset=dataset, strategy=strategy,
                                  strategy_desc=strategy_desc, callbacks=callbacks,
                                  command=command)
    except RunFailed as exc:
        return RunOutcome(variant.name, seed, run_dir, "failed", error=str(exc))
    finally:
        keras.backend.clear_session()
    cause = divergence(result.history, result.test_outputs)
    if cause:
        metrics = mark_failed(run_dir, result.metrics, cause)
        return RunOutcome(variant.name, seed, run_dir, "failed", metrics, result.history,
                          error=cause)
    preds = np.asarray(result.test_outputs).argmax(axis=1)
    return RunOutcome(variant.name, seed, run_dir, "completed", result.metrics, result.history,
                      preds)

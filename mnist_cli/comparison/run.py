"""Train every variant x seed on one shared dataset, each in its own sub-run directory.

A run that diverges is recorded as failed with its cause; the others still complete.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mnist_cli.comparison.report import write_artifacts
from mnist_cli.comparison.types import ComparisonRuns, RunOutcome
from mnist_cli.comparison.variants import Variant
from mnist_cli.data.types import Dataset
from mnist_cli.distribute import StrategyConfig, StrategyDescription
from mnist_cli.errors import RunFailed
from mnist_cli.runs.rundir import write_metrics

CallbacksFor = Callable[[str], list[Any]]
Finished = Callable[[RunOutcome, int, int], None]
"""Told of each finished sub-run: (its outcome, how many have finished, how many in all)."""


def divergence(history: dict[str, list[float]], outputs: Any) -> str | None:
    """Why a finished run must count as failed (NaN/inf loss or outputs), else None."""
    for epoch, loss in enumerate(history.get("loss", []), start=1):
        if not math.isfinite(loss):
            return (f"training loss became {loss} at epoch {epoch} (the run diverged); "
                    "lower --learning-rate or pick another optimizer")
    if outputs is not None and not np.isfinite(np.asarray(outputs)).all():
        return "test outputs contain NaN/inf (the run diverged); lower --learning-rate"
    return None


def sub_run_dir(compare_dir: Path, name: str, seed: int, repeats: int) -> Path:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return compare_dir / (safe if repeats == 1 else f"{safe}-seed{seed}")


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


def check_all_layers(variants: list[Variant]) -> None:
    """Report a bad layer argument in any variant before the first one trains."""
    from mnist_cli.modeling.build import check_layers

    for v in variants:
        check_layers(v.config.model, source=v.name)


def run_comparison(
    variants: list[Variant],
    seeds: list[int],
    compare_dir: Path,
    *,
    dataset: Dataset | None = None,
    strategy: Any = None,
    strategy_desc: StrategyDescription | None = None,
    callbacks_for: CallbacksFor | None = None,
    command: list[str] | None = None,
    workers: int = 1,
    scfg: Any = None,
    finished: Finished | None = None,
) -> ComparisonRuns:
    """Load the data once, train each variant with each seed, write the comparison files.

    One `strategy` (with its `make_strategy` description) serves every run; with `workers`
    > 1 the runs go to that many processes (`comparison.parallel`), each building the
    strategy from `scfg` (default: the default strategy), and `finished` hears each end.
    """
    check_all_layers(variants)
    if dataset is None:
        from mnist_cli.data import load_dataset

        dataset = load_dataset(variants[0].config.data, seeds[0])
    if dataset.test.y is None:
        raise RunFailed("the test split has no labels, so variants cannot be scored; "
                        "pass labelled --test-data")
    compare_dir = Path(compare_dir)
    compare_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(v, seed, sub_run_dir(compare_dir, v.name, seed, len(seeds)))
            for v in variants for seed in seeds]
    if workers > 1:
        from mnist_cli.comparison.parallel import train_parallel

        outcomes = train_parallel(jobs, dataset, workers, scfg or StrategyConfig(), command,
                                  finished)
    else:
        outcomes = []
        for variant, seed, run_dir in jobs:
            outcomes.append(train_one(
                variant, seed, run_dir, dataset, strategy=strategy, strategy_desc=strategy_desc,
                callbacks=callbacks_for(sub_run_label(variant.name, seed, len(seeds)))
                if callbacks_for else [], command=command))
            if finished is not None:
                finished(outcomes[-1], len(outcomes), len(jobs))
    comparison = ComparisonRuns(compare_dir, variants, seeds, outcomes, np.asarray(dataset.test.y),
                            dataset.description.to_dict(),
                            validation=dataset.validation is not None)
    write_artifacts(comparison)
    return comparison

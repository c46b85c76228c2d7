"""Train every variant x seed on one shared dataset, each in its own sub-run directory.

A run that diverges is recorded as failed with its cause; the others still complete.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mnist_cli.comparison.report import write_artifacts
from mnist_cli.comparison.sub_run import sub_run_label, train_one
from mnist_cli.comparison.types import ComparisonRuns, Finished
from mnist_cli.comparison.variants import Variant
from mnist_cli.data.types import Dataset
from mnist_cli.distribute import StrategyConfig, StrategyDescription
from mnist_cli.errors import RunFailed

CallbacksFor = Callable[[str], list[Any]]


def sub_run_dir(compare_dir: Path, name: str, seed: int, repeats: int) -> Path:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return compare_dir / (safe if repeats == 1 else f"{safe}-seed{seed}")


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

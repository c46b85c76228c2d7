"""The `compare` flow: one strategy and one dataset for every variant, then the statistics."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from rich.markup import escape

from mnist_cli.comparison.run import CallbacksFor
from mnist_cli.distribute import StrategyConfig
from mnist_cli.flows import DisplayFor, Notify, silent


def compare_flow(variants: list[Any], seeds: list[int], target: Path, scfg: StrategyConfig, *,
                 callbacks_for: CallbacksFor | None = None,
                 progress: AbstractContextManager[Any] | None = None,
                 display_for: DisplayFor | None = None,
                 notify: Notify = silent, command: list[str] | None = None) -> Any:
    """Train every variant x seed into `target` and return the core's Comparison (its
    `summary` is what `--json` prints); under multi-worker only the chief keeps the directory."""
    from mnist_cli.comparison import run_comparison
    from mnist_cli.data import load_dataset
    from mnist_cli.distribute import make_strategy, run_dir_for, summary_line

    dist, desc = make_strategy(scfg)
    dataset = load_dataset(variants[0].config.data, seeds[0])  # once, for every variant
    for note in dataset.description.notes:
        notify(f"[yellow]note:[/] {escape(note)}")
    notify(summary_line(desc, variants[0].config.training.batch_size))
    notify(f"comparing {', '.join(v.name for v in variants)} "
           f"with seed(s) {', '.join(map(str, seeds))}")
    if display_for is not None:
        progress, callbacks_for = display_for(len(dataset.train))
    with progress or nullcontext(), run_dir_for(desc, target) as where:
        comparison = run_comparison(variants, seeds, where, dataset=dataset, strategy=dist,
                                    strategy_desc=desc, callbacks_for=callbacks_for,
                                    command=command)
    comparison.chief = desc.is_chief
    return comparison

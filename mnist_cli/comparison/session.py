"""One comparison as `compare` does it: one strategy, data loaded once, every variant x seed;
called by `mnist_cli.api.compare`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_cli.display import Display
from mnist_cli.distribute import StrategyConfig


def compare_into(variants: list[Any], seeds: list[int], target: Path, scfg: StrategyConfig,
                 ui: Display, command: list[str], workers: int = 1) -> Any:
    """Train every variant x seed into `target` on one dataset and one strategy (in
    `workers` processes, a count the API has checked); the core's ComparisonRuns (its
    `summary` is what `--json` prints). Several workers show one line per finished sub-run
    (epochs run out of sight)."""
    from mnist_cli.comparison import run_comparison
    from mnist_cli.comparison.parallel import finished_line
    from mnist_cli.data import load_dataset
    from mnist_cli.distribute import make_strategy, run_dir_for, summary_line

    dist, desc = make_strategy(scfg)
    dataset = load_dataset(variants[0].config.data, seeds[0])  # once, for every variant
    ui.notes(dataset.description.notes)
    ui.notify(summary_line(desc, variants[0].config.training.batch_size))
    ui.notify(f"comparing {', '.join(v.name for v in variants)} "
              f"with seed(s) {', '.join(map(str, seeds))}"
              + (f" in {workers} worker processes" if workers > 1 else ""))
    shown = ui.training(samples=len(dataset.train), labelled=True)
    def finished(outcome: Any, done: int, total: int) -> None:
        shown.sub_run_done(finished_line(outcome, done, total, len(seeds)), done, total)

    with shown, run_dir_for(desc, target) as where:
        runs = run_comparison(variants, seeds, where, dataset=dataset, strategy=dist,
                              strategy_desc=desc, callbacks_for=shown.callbacks,
                              command=command, workers=workers, scfg=scfg,
                              finished=finished if workers > 1 else None)
    runs.chief = desc.is_chief
    return runs

"""One training run as a command does it: strategy, data (notes reported), run_training with
the display's callbacks, then curves.png; `mnist_cli.api.train` calls it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_cli.config import RunConfig
from mnist_cli.display import Display
from mnist_cli.distribute import StrategyConfig
from mnist_cli.runs.rundir import CURVES
from mnist_cli.runs.timings import phase, take


def announce(line: str, ui: Display) -> Any:
    """A Keras callback reporting `line` as training starts: after the data and layers are
    checked, so a bad input stays a one-line error."""
    from mnist_cli.backend import import_keras

    class Announce(import_keras().callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            ui.notify(line)

    return Announce()


def load_data(cfg: RunConfig, ui: Display) -> Any:
    """The run's dataset (its seed drawn now if not given), with its notes reported first."""
    from mnist_cli.data.dataset import load_run_dataset
    from mnist_cli.modeling.precision import precision_notes
    from mnist_cli.training.seeding import resolve_seed

    cfg.training.seed = resolve_seed(cfg.training.seed)
    with phase("data"):
        dataset = load_run_dataset(cfg)
    ui.notes([*dataset.description.notes, *precision_notes(cfg.training.precision)])
    return dataset


def train_into(cfg: RunConfig, target: Path, scfg: StrategyConfig, ui: Display, *,
               plots: bool, command: list[str]) -> Any:
    """Train `cfg` into `target` (the TrainResult); under multi-worker only the chief keeps
    the run directory and draws curves.png."""
    from mnist_cli.distribute import make_strategy, run_dir_for, summary_line
    from mnist_cli.signals import handle_interrupts
    from mnist_cli.training import run_training

    dist, desc = make_strategy(scfg)
    dataset = load_data(cfg, ui)  # after the strategy: multi-worker must come before TF ops
    shown = ui.training(samples=len(dataset.train))
    hooks = [announce(summary_line(desc, cfg.training.batch_size), ui), *shown.callbacks(cfg.name)]
    with shown, handle_interrupts(), run_dir_for(desc, target) as where:
        result = run_training(cfg, where, dataset=dataset, strategy=dist, strategy_desc=desc,
                              callbacks=hooks, command=command)
    result.chief = desc.is_chief
    if plots and result.chief and result.history.get("loss"):
        from mnist_cli.plots import write_curves

        with phase("plots"):
            write_curves(Path(target) / CURVES, result.history, title=cfg.name)
        record_plots_time(result.metrics, Path(target))
    return result


def record_plots_time(metrics: dict[str, Any], run_dir: Path) -> None:
    """Add the curves' drawing time to metrics.json's `timings` (drawn after it was written)."""
    from mnist_cli.runs.rundir import write_metrics

    if "timings" in metrics:
        metrics["timings"].update(plots=take()["plots"])
        write_metrics(run_dir, metrics)

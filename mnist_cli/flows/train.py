"""The `train` flow: strategy, data, training and curves.png into one run directory."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from rich.markup import escape

from mnist_cli.config.schema import RunConfig
from mnist_cli.distribute import StrategyConfig
from mnist_cli.flows import DisplayFor, Notify, silent
from mnist_cli.runs.rundir import CURVES, check_writable, new_run_dir


def announce(line: str, notify: Notify) -> Any:
    """A Keras callback reporting `line` as training starts: after the data and layers are
    checked, so a bad input stays a one-line error."""
    from mnist_cli.tfenv import import_keras

    class Announce(import_keras().callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            notify(line)

    return Announce()


def load_data(cfg: RunConfig, notify: Notify = silent) -> Any:
    """The run's dataset (its seed drawn now if not given), with its notes reported first."""
    from mnist_cli.data.dataset import load_run_dataset
    from mnist_cli.training.seeding import resolve_seed

    cfg.training.seed = resolve_seed(cfg.training.seed)
    dataset = load_run_dataset(cfg)
    from mnist_cli.modeling.precision import precision_notes

    for note in [*dataset.description.notes, *precision_notes(cfg.training.precision)]:
        notify(f"[yellow]note:[/] {escape(note)}")
    return dataset


def new_target(name: str, run_dir: Path | None) -> Path:
    """A fresh run directory (an existing non-empty one is refused), checked writable."""
    target = new_run_dir(name, run_dir)
    check_writable(target)
    return target


def resume_target(run_dir: Path, flags: dict[str, Any],
                  notify: Notify = silent) -> tuple[RunConfig, Path]:
    """The saved config of an interrupted run (refusing config flags) and its directory."""
    from mnist_cli.training.resume import completed_epochs, load_resume_config, refuse_conflicts

    refuse_conflicts(run_dir, flags)
    cfg = load_resume_config(run_dir)
    check_writable(run_dir)
    done = completed_epochs(run_dir)
    notify(f"resuming {run_dir} at epoch {done + 1} of {cfg.training.epochs}")
    return cfg, Path(run_dir)


def train_flow(cfg: RunConfig, target: Path, scfg: StrategyConfig, *, plots: bool = True,
               callbacks: list[Any] | None = None,
               progress: AbstractContextManager[Any] | None = None,
               display_for: DisplayFor | None = None,
               notify: Notify = silent, command: list[str] | None = None) -> Any:
    """Train `cfg` into `target` and return the TrainResult. Under multi-worker only the
    chief keeps the run directory and draws curves.png. `progress` (e.g. a rich Progress
    driven by `callbacks`) is entered around training only; `display_for(training examples)`
    gives another such (display, callbacks) pair once the data is loaded."""
    from mnist_cli.distribute import make_strategy, run_dir_for, summary_line
    from mnist_cli.signals import handle_interrupts
    from mnist_cli.training import run_training

    dist, desc = make_strategy(scfg)
    dataset = load_data(cfg, notify)  # after the strategy: multi-worker must come before TF ops
    hooks = [announce(summary_line(desc, cfg.training.batch_size), notify), *(callbacks or [])]
    if display_for is not None:
        progress, shown = display_for(len(dataset.train))
        hooks += shown
    with progress or nullcontext(), handle_interrupts(), run_dir_for(desc, target) as where:
        result = run_training(cfg, where, dataset=dataset, strategy=dist, strategy_desc=desc,
                              callbacks=hooks, command=command)
    result.chief = desc.is_chief
    if plots and result.chief and result.history.get("loss"):
        from mnist_cli.plots import write_curves

        write_curves(Path(target) / CURVES, result.history, title=cfg.name)
    return result

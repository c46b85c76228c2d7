"""What a run directory holds, written atomically."""

from __future__ import annotations

import csv
import io
import platform
import sys
from pathlib import Path
from typing import Any

import mnist_cli.runs.rundir as rundir
from mnist_cli.config.schema import RunConfig
from mnist_cli.runs import timings
from mnist_cli.runs.artifacts import save_model, write_text, write_yaml
from mnist_cli.version import __version__


def start_run_dir(run_dir: Path, cfg: RunConfig, description: Any = None) -> None:
    """Create the directory and save the resolved config and the data split (seed and
    fingerprints) before the first step."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    write_yaml(Path(run_dir) / rundir.CONFIG, cfg.to_dict())
    if description is not None:
        rundir.write_split(run_dir, description)


def history_csv(history: dict[str, list[float]]) -> str:
    """One row per epoch, every value in full precision (the shortest text that reads back as
    the same float), so it equals metrics.json and TensorBoard's float32 of it."""
    buf = io.StringIO()
    keys = list(history)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for i in range(len(next(iter(history.values()), []))):
        writer.writerow([i + 1, *(repr(float(history[k][i])) for k in keys)])
    return buf.getvalue()


def final_epoch(history: dict[str, list[float]]) -> dict[str, float]:
    """The last epoch's value of every logged metric (train/val loss and accuracy)."""
    return {k: v[-1] for k, v in history.items() if v}


def epoch_values(history: dict[str, list[float]], epoch: int) -> dict[str, float]:
    """Every logged metric of 1-based `epoch` (none for epoch 0: nothing ran)."""
    if epoch < 1:
        return {}
    return {k: v[epoch - 1] for k, v in history.items() if len(v) >= epoch}


def kept_epoch(history: dict[str, list[float]], stoppers: list[Any]) -> int:
    """The 1-based epoch whose weights the model holds after training.

    An EarlyStopping callback with restore_best_weights puts its best epoch's weights back
    at the end of training (Keras 3 does so even when patience never ran out), so any engine
    that drives the callback leaves the model at `best_epoch`; otherwise it is the last one.
    """
    last = len(next(iter(history.values()), []))
    for stopper in stoppers:
        if getattr(stopper, "restore_best_weights", False) and \
                getattr(stopper, "best_weights", None) is not None:
            return int(stopper.best_epoch) + 1
    return last


def epoch_record(history: dict[str, list[float]], stoppers: list[Any]) -> dict[str, Any]:
    """metrics.json's `final` (the kept epoch's metrics), `kept_epoch`, and `last_epoch`
    (the last epoch's metrics) only when early stopping restored an earlier epoch."""
    kept, last = kept_epoch(history, stoppers), len(next(iter(history.values()), []))
    record: dict[str, Any] = {"final": epoch_values(history, kept), "kept_epoch": kept}
    if kept != last:
        record["last_epoch"] = final_epoch(history)
    return record


def finish_run_dir(run_dir: Path, model: Any, history: dict[str, list[float]],
                   metrics: dict[str, Any]) -> None:
    """model.keras and history.csv, then metrics.json with the run's `timings` (added to
    `metrics`: the phases so far, saving included)."""
    run_dir = Path(run_dir)
    with timings.phase("save"):
        save_model(model, run_dir / rundir.MODEL)
        write_text(run_dir / rundir.HISTORY, history_csv(history))
    metrics["timings"] = timings.take()
    rundir.write_metrics(run_dir, metrics)


def versions() -> dict[str, str]:
    """Library versions, so a result can be reproduced (read from the installed packages:
    a JAX run does not import TensorFlow for its version)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"mnist_cli": __version__, "python": sys.version.split()[0],
             "platform": platform.platform()}
    names = ("tensorflow", "keras", "jax", "jaxlib", "numpy", "scikit-learn")
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            if name in ("tensorflow", "keras", "numpy", "scikit-learn"):
                found[name] = "not installed"
    return found

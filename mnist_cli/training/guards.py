"""Divergence and interruption guards for `model.fit`, and what a failed run leaves behind.

A NaN loss must stop the run at once with a reason, not fill history.csv with NaN; the
last completed epoch's backup (`mnist_cli.training.backup`) is kept as the last good checkpoint.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

import mnist_cli.runs.rundir as rundir
import mnist_cli.signals as signals
from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import RunFailed, UsageError
from mnist_cli.runs.artifacts import save_model, write_text
from mnist_cli.runs.faults import WriteFailed, describe
from mnist_cli.runs.rundir import keras_backup_dir

# Learning rates above which an optimizer usually diverges on MNIST-style data.
LR_LIMITS = {"sgd": 1.0, "adagrad": 1.0}
ADAPTIVE_LR_LIMIT = 0.1
F = TypeVar("F", bound=Callable[..., Any])


class Diverged(RunFailed):
    """The loss (or the weights) became NaN/inf; `where` says when."""

    def __init__(self, what: str, value: float, epoch: int, step: int | None,
                 what_detail: str | None = None) -> None:
        self.what, self.value, self.epoch, self.step = what, value, epoch, step
        self.causes: list[str] = []
        at = f"epoch {epoch}" + (f", step {step}" if step is not None else " (end)")
        became = f"{what_detail} {value:.4g})" if what_detail else f"became {value}"
        self.reason = f"{what} {became}" if what_detail else f"non-finite {what}"
        super().__init__(f"training diverged: {what} {became} at {at}")


def likely_causes(cfg: RunConfig) -> list[str]:
    """Plain-words reasons a config diverges, each with the fix."""
    causes: list[str] = []
    act = cfg.model.layers[-1].kwargs.get("activation") if cfg.model.layers else None
    if cfg.model.output == "probabilities" and act not in (None, "softmax"):
        causes.append(
            f"{act!s} activation on the output layer with model.output: probabilities "
            "(outputs are not a probability distribution); drop the last layer's activation "
            "so softmax is used, or set model.output: logits")
    t = cfg.training
    limit = LR_LIMITS.get(t.optimizer.lower(), ADAPTIVE_LR_LIMIT)
    if t.learning_rate >= limit:
        causes.append(f"learning rate {t.learning_rate:g} is too high for {t.optimizer}; "
                      f"try --learning-rate {min(t.learning_rate / 10, 0.01):g}")
    if not cfg.data.scale:
        causes.append("pixels are not scaled (data.scale: false); set data.scale: true")
    if not causes:
        causes.append("no config problem recognised; lower training.learning_rate 10x "
                      "and check the data for extreme values")
    return causes


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def guard_callback(probe: Any = None) -> Any:
    """A keras Callback raising `Diverged` at the first non-finite loss or weight, or (with
    `probe` images) probability outputs that are not distributions, and
    `signals.Interrupted` at the first batch/epoch boundary after SIGINT/SIGTERM."""
    from mnist_cli.backend import import_keras

    keras = import_keras()

    class Guard(keras.callbacks.Callback):
        epoch = 0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch
            signals.check()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            loss = (logs or {}).get("loss")
            if not _finite(loss):
                raise Diverged("loss", float(loss), self.epoch + 1, batch + 1)
            signals.check()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            for key in ("loss", "val_loss"):
                if key in (logs or {}) and not _finite(logs[key]):
                    raise Diverged(key, float(logs[key]), epoch + 1, None)
            if not all(np.isfinite(w).all() for w in self.model.get_weights()):
                raise Diverged("the weights", float("nan"), epoch + 1, None)
            if probe is not None:
                check_probabilities(self.model, probe, epoch + 1)

    return Guard()


def check_probabilities(model: Any, probe: Any, epoch: int) -> None:
    """Probability outputs must be distributions. Keras clips them inside the loss, so a
    ReLU output layer no longer shows up as NaN: it trains silently to a useless model."""
    outputs = np.asarray(model(probe, training=False))
    sums = outputs.sum(axis=-1)
    if not np.isfinite(outputs).all():
        raise Diverged("the outputs", float("nan"), epoch, None)
    if outputs.min() < -1e-6 or np.abs(sums - 1).max() > 1e-3:
        raise Diverged("the outputs", float(np.abs(sums - 1).max() + 1), epoch, None,
                       what_detail="are not probabilities (rows should sum to 1; one sums to")


def record_failure(run_dir: Path, cfg: RunConfig, exc: Diverged, model: Any,
                   history: dict[str, list[float]], command: list[str] | None) -> Diverged:
    """Mark the run failed in metrics.json, keep the last good weights; returns `exc`
    with a message that says where everything is and what to change."""
    from mnist_cli.runs.outputs import history_csv
    from mnist_cli.training.extra_state import STATE_FILE, read_state

    run_dir = Path(run_dir)
    exc.causes = likely_causes(cfg)
    kept = None
    state = read_state(keras_backup_dir(run_dir) / STATE_FILE)
    if state is not None:  # the last completed epoch's weights, as a loadable model
        model.set_weights(state.weights)
        kept = save_model(model, run_dir / rundir.LAST_GOOD)
    write_text(run_dir / rundir.HISTORY, history_csv(history))
    rundir.write_metrics(run_dir, {
        "status": "failed",
        "failure": {"reason": exc.reason, "value": str(exc.value),
                    "epoch": exc.epoch, "step": exc.step, "likely_causes": exc.causes},
        "epochs_completed": len(next(iter(history.values()), [])),
        "last_good_checkpoint": str(kept) if kept else None,
        "seed": cfg.training.seed, "command": command or [], "run_dir": str(run_dir),
    })
    kept_text = f"last good model kept in {kept}" if kept else "no epoch completed before it"
    exc.args = (f"{exc.args[0]}; likely cause: {exc.causes[0]}; run marked failed in "
                f"{run_dir / rundir.METRICS}; {kept_text}",)
    return exc


def records_faults(run: F) -> F:
    """Decorate `run_training(cfg, run_dir, ..., command=...)`: an `OSError` once the run
    directory exists (full disk, a path removed or made unwritable mid-run) marks the run
    failed in metrics.json where that can still be written, and becomes one `WriteFailed`
    line (exit 1) saying what is kept and how to continue."""

    @functools.wraps(run)
    def wrapper(cfg: RunConfig, run_dir: Path, *args: Any, **kwargs: Any) -> Any:
        try:
            return run(cfg, run_dir, *args, **kwargs)
        except OSError as exc:
            raise record_fault(Path(run_dir), cfg, exc, kwargs.get("command")) from exc

    return wrapper  # type: ignore[return-value]


def record_fault(run_dir: Path, cfg: RunConfig, exc: OSError,
                 command: list[str] | None) -> WriteFailed:
    """metrics.json `failed` with the fault, if the directory can still take it."""
    from mnist_cli.training.resume import completed_epochs, resume_hint

    message = describe(exc, action="use")
    if not run_dir.is_dir():
        return WriteFailed(f"{message} (run directory {run_dir} is gone)", exc.errno)
    try:
        done = completed_epochs(run_dir)
    except UsageError:  # the backup itself is unreadable
        done = 0
    record = {"status": "failed", "failure": {"reason": message, "errno": exc.errno},
              "epochs_completed": done, "seed": cfg.training.seed,
              "command": command or [], "run_dir": str(run_dir)}
    kept = (f"; the backup of epoch {done} is kept: once fixed, continue with "
            f"{resume_hint(run_dir)}") if done else ""
    try:
        rundir.write_metrics(run_dir, record)
        marked = f"; run marked failed in {run_dir / rundir.METRICS}"
    except OSError:
        marked = f"; {rundir.METRICS} could not be updated either"
    return WriteFailed(message + marked + kept, exc.errno)

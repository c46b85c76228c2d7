"""Progress on stderr: a rich bar in a terminal, plain log lines elsewhere (CI), or nothing.

`--progress auto` picks `bar` when stderr is a terminal and `plain` otherwise: a CI log gets
one line per epoch as it happens (a live bar there would show only its final state, at the
end, and cut its labels at 80 columns). Training progress is a `keras.callbacks.Callback`
using only the standard hooks, so any loop that drives callbacks the Keras way shows it.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from mnist_cli.cli import console
from mnist_cli.cli.console import err
from mnist_cli.errors import UsageError

MODES = ("auto", "bar", "plain", "none")
SHORT = (("loss", "loss"), ("accuracy", "acc"), ("val_loss", "val_loss"),
         ("val_accuracy", "val_acc"))


def resolve_mode(mode: str) -> str:
    """`bar`, `plain` or `none` for this run (--quiet and --json mean none)."""
    if mode not in MODES:
        raise UsageError(f"--progress {mode!r} is not a progress mode; choose one of "
                         f"{', '.join(MODES)}")
    if console.Mode.quiet:
        return "none"
    if mode == "auto":
        return "bar" if err.is_terminal else "plain"
    return mode


def plain(line: str) -> None:
    """One log line, never wrapped or styled (a CI log is not 80 columns of terminal)."""
    err.print(line, markup=False, highlight=False, soft_wrap=True)


def make_progress() -> Progress:
    """Label, bar, count, ETA, then the metrics last, so a narrow terminal cuts only those."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=12),
        MofNCompleteColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(compact=True),
        TextColumn("{task.fields[stats]}"),
        console=err,
        transient=False,
    )


def _fmt(logs: dict[str, Any] | None) -> str:
    """`loss 0.2237 acc 0.9314 | val 0.2244 acc 0.9281`: short enough for 80 columns."""
    logs = logs or {}
    parts = []
    for prefix, text in (("", ""), ("val_", "| val ")):
        if prefix + "loss" in logs:
            part = f"{text}{'' if prefix else 'loss '}{float(logs[prefix + 'loss']):.4f}"
            if prefix + "accuracy" in logs:
                part += f" acc {float(logs[prefix + 'accuracy']):.4f}"
            parts.append(part)
    return " ".join(parts)


def epoch_line(epoch: int, epochs: int, logs: dict[str, Any] | None, seconds: float,
               samples: int | None = None, label: str | None = None) -> str:
    """`epoch 3/10  loss 0.4100  acc 0.8700  val_loss 0.4500  val_acc 0.8600  2.1 s
    41,000 samples/s` (prefixed `label: ` when several models train in one log)."""
    logs = logs or {}
    parts = [f"epoch {epoch}/{epochs}"]
    parts += [f"{short} {float(logs[key]):.4f}" for key, short in SHORT if key in logs]
    parts.append(f"{seconds:.1f} s")
    if samples:
        parts.append(f"{samples / max(seconds, 1e-9):,.0f} samples/s")
    line = "  ".join(parts)
    return f"{label}: {line}" if label else line


def progress_callback(progress: Progress, label: str = "train") -> Any:
    """A keras Callback driving two bars: epochs and steps within the epoch."""
    from mnist_cli.tfenv import import_keras

    keras = import_keras()

    class RichProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            epochs = self.params.get("epochs") or 1
            self.epoch_task = progress.add_task(label, total=epochs, stats="")
            self.step_task = progress.add_task("  steps", total=self.params.get("steps"), stats="")

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            progress.reset(self.step_task, total=self.params.get("steps"), stats="")

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            progress.update(self.step_task, completed=batch + 1, stats=_fmt(logs))

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            progress.update(self.epoch_task, completed=epoch + 1, stats=_fmt(logs))

    return RichProgress()


def plain_callback(samples: int | None = None, label: str | None = None) -> Any:
    """A keras Callback printing one `epoch_line` per finished epoch."""
    from mnist_cli.tfenv import import_keras

    class PlainProgress(import_keras().callbacks.Callback):
        started = 0.0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            seconds = time.perf_counter() - self.started
            plain(epoch_line(epoch + 1, self.params.get("epochs") or epoch + 1, logs,
                             seconds, samples, label))

    return PlainProgress()


class TrainDisplay:
    """What `train` and `compare` show while fitting, per `--progress`; use as a context
    manager around the fits and pass `callbacks(label)` to each."""

    def __init__(self, mode: str, samples: int | None = None, labelled: bool = False) -> None:
        self.mode = resolve_mode(mode)
        self.samples, self.labelled = samples, labelled
        self.progress = make_progress() if self.mode == "bar" else None

    def __enter__(self) -> TrainDisplay:
        (self.progress or nullcontext()).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def callbacks(self, label: str) -> list[Any]:
        if self.progress is not None:
            return [progress_callback(self.progress, label)]
        if self.mode == "plain":
            return [plain_callback(self.samples, label if self.labelled else None)]
        return []


def batch_callback(display: BatchDisplay) -> Any:
    """A keras Callback reporting predicted batches to `display`."""
    from mnist_cli.tfenv import import_keras

    class PredictProgress(import_keras().callbacks.Callback):
        def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
            display.advance(batch + 1)

    return PredictProgress()


class BatchDisplay:
    """Progress of a long predict/evaluate: a bar, or one plain line per ~10% of the batches."""

    def __init__(self, mode: str, label: str, batches: int, examples: int) -> None:
        self.mode = resolve_mode(mode)
        self.label, self.batches, self.examples = label, max(batches, 1), examples
        self.progress = make_progress() if self.mode == "bar" else None
        self.task = (self.progress.add_task(label, total=self.batches, stats="")
                     if self.progress is not None else None)
        self.tenths, self.started = 0, time.perf_counter()

    def __enter__(self) -> BatchDisplay:
        (self.progress or nullcontext()).__enter__()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def callbacks(self) -> list[Any]:
        return [] if self.mode == "none" else [batch_callback(self)]

    def advance(self, done: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=done)
            return
        tenths = 10 * done // self.batches
        if tenths > self.tenths:
            self.tenths = tenths
            per = -(-self.examples // self.batches)
            seen = min(done * per, self.examples)
            plain(f"{self.label} {10 * tenths}%  {seen:,}/{self.examples:,} examples  "
                  f"{time.perf_counter() - self.started:.1f} s")

"""A rich progress display for Keras fit (epochs, steps, loss, accuracy, ETA) on stderr."""

from __future__ import annotations

from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mnist_cli.cli.console import err


def make_progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def _fmt(logs: dict[str, Any] | None) -> str:
    logs = logs or {}
    parts = []
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if key in logs:
            parts.append(f"{key} {float(logs[key]):.4f}")
    return "  ".join(parts)


def progress_callback(progress: Progress, label: str = "train") -> Any:
    """A keras Callback driving two bars: epochs and steps within the epoch."""
    from mnist_cli.tfenv import import_keras

    keras = import_keras()

    class RichProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            epochs = self.params.get("epochs") or 1
            self.epoch_task = progress.add_task(f"{label} epochs", total=epochs, stats="")
            self.step_task = progress.add_task("  steps", total=self.params.get("steps"), stats="")

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            progress.reset(self.step_task, total=self.params.get("steps"), stats="")

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            progress.update(self.step_task, completed=batch + 1, stats=_fmt(logs))

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            progress.update(self.epoch_task, completed=epoch + 1, stats=_fmt(logs))

    return RichProgress()

"""A rich progress display for Keras fit (epochs, steps, loss, accuracy, ETA) on stderr."""

from __future__ import annotations

from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from mnist_cli.cli.console import err


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

"""TensorBoard event files for a run, written with `tf.summary` (no tensorboard package).

`RUN_DIR/tensorboard/` gets one scalar per history key per epoch (loss, accuracy and their
`val_` twins, under the same names as history.csv, step = epoch number as there), plus
`learning_rate` and `samples_per_second`, the resolved config as text, and the test
metrics under `test/` once the run is scored. A compare directory holds one such run per
sub-run, so `tensorboard` pointed at it overlays every variant and seed.

The callback uses only the standard hooks (`on_epoch_begin`, `on_epoch_end`,
`on_train_end`), so any loop that drives Keras callbacks drives it; the writer is opened
lazily on the first epoch. It never edits `logs`: other callbacks see them unchanged.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import yaml

from mnist_cli.config.schema import RunConfig
from mnist_cli.rundir import TENSORBOARD
from mnist_cli.strategy.description import StrategyDescription
from mnist_cli.tfenv import import_keras, import_tf

LOG_DIR = TENSORBOARD
TEST_KEYS = ("test_loss", "test_accuracy", "balanced_accuracy")
FLUSH_EVERY_S = 1.0  # epochs of a crashed run reach the file within this (flushes cost ~ms)


def config_markdown(cfg: RunConfig) -> str:
    """The config as a Markdown code block (TensorBoard's text plugin renders Markdown)."""
    text = yaml.safe_dump(cfg.to_dict(), sort_keys=False)
    return "\n".join("    " + line for line in text.splitlines())


@functools.cache
def metadata(plugin: str) -> bytes:
    """Summary metadata TensorBoard's `scalars` / `text` plugins recognise (what the
    tensorboard package's own `tf.summary.scalar` / `text` write, which TF 2.21 lacks)."""
    from tensorflow.core.framework import summary_pb2

    data_class = summary_pb2.DATA_CLASS_SCALAR if plugin == "scalars" else (
        summary_pb2.DATA_CLASS_TENSOR)
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
        data_class=data_class).SerializeToString()


def write_scalar(tag: str, value: float, step: int) -> None:
    """One float32 scalar event on the default writer."""
    tf = import_tf()
    tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step,
                     metadata=metadata("scalars"))


def learning_rate(model: Any) -> float | None:
    """The optimizer's current learning rate (schedules evaluated), or None if unknown."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        return float(import_keras().ops.convert_to_numpy(optimizer.learning_rate))
    except (AttributeError, TypeError, ValueError):
        return None


def _callback_base() -> type:
    return import_keras().callbacks.Callback


def make_board(cfg: RunConfig, run_dir: Path, train_examples: int) -> Any:
    """A `RunBoard` callback writing to RUN_DIR/tensorboard/."""

    class RunBoard(_callback_base()):
        """Per-epoch scalars; the config once; the test metrics via `write_test`."""

        def __init__(self) -> None:
            super().__init__()
            self.log_dir = Path(run_dir) / LOG_DIR
            self.writer: Any = None
            self.epoch_start: float | None = None
            self.flushed_at = time.monotonic()

        def open(self) -> Any:
            if self.writer is None:
                tf = import_tf()
                self.writer = tf.summary.create_file_writer(str(self.log_dir))
                with self.writer.as_default():
                    tf.summary.write("config", tf.constant(config_markdown(cfg)), step=0,
                                     metadata=metadata("text"))
            return self.writer

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.open()
            self.epoch_start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            values = {k: float(v) for k, v in (logs or {}).items()}
            lr = learning_rate(getattr(self, "model", None))
            if lr is not None:
                values.setdefault("learning_rate", lr)
            if self.epoch_start is not None:
                seconds = max(time.perf_counter() - self.epoch_start, 1e-9)
                values["samples_per_second"] = train_examples / seconds
            with self.open().as_default():
                for key, value in values.items():
                    write_scalar(key, value, epoch + 1)
            if time.monotonic() - self.flushed_at >= FLUSH_EVERY_S:
                self.writer.flush()
                self.flushed_at = time.monotonic()

        def on_train_end(self, logs: dict | None = None) -> None:
            if self.writer is not None:
                self.writer.flush()

        def write_test(self, metrics: dict[str, Any], step: int) -> None:
            """The scored test metrics under test/, at the last epoch's step; closes."""
            with self.open().as_default():
                for key in TEST_KEYS:
                    if key in metrics:
                        write_scalar(f"test/{key}", metrics[key], step)
            self.writer.close()

    return RunBoard()


def board_callbacks(cfg: RunConfig, run_dir: Path, train_examples: int,
                    strategy_desc: StrategyDescription | None) -> list[Any]:
    """[RunBoard] when the config asks for TensorBoard and this process writes the run
    (under multi-worker only the chief does), else []."""
    if not cfg.training.tensorboard or (strategy_desc is not None and not strategy_desc.is_chief):
        return []
    return [make_board(cfg, run_dir, train_examples)]


def write_test(boards: list[Any], metrics: dict[str, Any], step: int) -> None:
    """Hand the final test metrics to the run's board, if it has one."""
    for board in boards:
        board.write_test(metrics, step)

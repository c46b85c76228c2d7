"""The epoch-end backup that `--resume` restarts from, at a bounded cost, safe on a full disk.

The whole training state (epoch, weights, optimizer variables, early-stopping state,
seed-generator state) is one NumPy `.npz` file written atomically (`mnist_cli.runs.artifacts`):
a write either lands whole or leaves the previous backup untouched, and a full disk raises
`OSError` instead of crashing the process (Keras `BackupAndRestore` writes HDF5, whose
writer segfaults on ENOSPC). Every epoch end only snapshots the state in memory (<1 ms);
the snapshot reaches disk when a write is due (at most one per `MIN_INTERVAL_S`, and no more
than `COST_SHARE` of the time), at the last epoch, and on a graceful stop (signal or
divergence) through `flush`, so only a hard kill loses the epochs since the last write.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mnist_cli.signals as signals
import mnist_cli.training.extra_state as extra_state
from mnist_cli.runs.rundir import CONFIG

MIN_INTERVAL_S = float(os.environ.get("MNIST_CLI_BACKUP_INTERVAL_S", "2.0"))
"""At most one write per this many seconds; `MNIST_CLI_BACKUP_INTERVAL_S=0` writes every epoch
(a slow epoch, or a test that kills a run at a known epoch)."""
COST_SHARE = 0.02  # a write is due once 1/COST_SHARE times its last cost has passed


def state_path(backup_dir: Path) -> Path:
    return Path(backup_dir) / extra_state.STATE_FILE


def saved_epochs(backup_dir: Path) -> int:
    """Epochs completed in the backup in `backup_dir` (0 if there is none); one that exists
    but cannot be read is a `UsageError` naming it (exit 2)."""
    state = extra_state.read_state(state_path(backup_dir))
    return 0 if state is None else state.epoch


def epoch_backup(backup_dir: Path, stopping: list[Any] | None = None,
                 run_dir: Path | None = None, every_epoch: bool = False,
                 before_write: Callable[[], None] | None = None) -> Any:
    """A keras Callback restoring the backup at train begin and writing it when due (see
    module doc), or at `every_epoch` end (multi-worker: every worker's backup then holds the
    same epochs); it carries the state of the `stopping` (early-stopping) callbacks, which
    must come before it in the callback list. With `run_dir`, every epoch end first checks
    that the run directory is still in place; `before_write` runs before each write (the
    history, so that it never lags the state)."""
    from mnist_cli.backend import import_keras

    keras = import_keras()
    stoppers = list(stopping or [])

    class EpochBackup(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot: extra_state.TrainingState | None = None
            self.written_epoch = -1
            self.written_at = time.monotonic()
            self.write_cost = 0.0

        def on_train_begin(self, logs: dict | None = None) -> None:
            state = extra_state.read_state(state_path(backup_dir))
            if state is not None:
                extra_state.apply(state, self.model, stoppers)
            self.written_at = time.monotonic()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            # A run directory removed or moved mid-run stops the run (the next write would
            # silently re-create it with half its files).
            if run_dir is not None and not (Path(run_dir) / CONFIG).is_file():
                raise FileNotFoundError(errno.ENOENT, "the run directory lost its config.yaml",
                                        str(Path(run_dir) / CONFIG))
            self.snapshot = extra_state.capture(epoch + 1, self.model, stoppers)
            last = epoch + 1 >= self.params.get("epochs", 0)
            waited = time.monotonic() - self.written_at
            due = waited >= max(MIN_INTERVAL_S, self.write_cost / COST_SHARE)
            if last or every_epoch or signals.pending() is not None or due:
                self._write(self.snapshot)

        def _write(self, state: extra_state.TrainingState) -> None:
            start = time.monotonic()
            if before_write is not None:
                before_write()
            extra_state.write_state(state_path(backup_dir), state)
            self.written_at = time.monotonic()
            self.write_cost = self.written_at - start
            self.written_epoch = state.epoch - 1

        def flush(self) -> None:
            """Write the last completed epoch's snapshot if it is newer than the file."""
            if self.snapshot is not None and self.snapshot.epoch - 1 > self.written_epoch:
                self._write(self.snapshot)

    return EpochBackup()


def flush(callbacks: list[Any], recorder: Any = None) -> None:
    """Write any unsaved completed epoch before a graceful stop (with its history first),
    and the history (`resume.history_callback`) in any case."""
    for callback in callbacks:
        if hasattr(callback, "flush") and hasattr(callback, "snapshot"):
            callback.flush()
    if recorder is not None:
        recorder.flush()

"""The epoch-end backup that `--resume` restarts from, at a bounded cost.

Keras `BackupAndRestore` writes weights and optimizer state after every epoch: ~15 ms even
for the 20k-parameter MLP, whose epochs on 8k digits take ~90 ms, so it alone cost ~13% of
the fit. Here every epoch end only snapshots the state in memory (<1 ms) and the snapshot
reaches disk when a write is due (at most one per `MIN_INTERVAL_S`, and no more than
`COST_SHARE` of the time), at the last epoch, and on a graceful stop (signal or divergence)
through `flush`, so those lose nothing; only a hard kill loses the epochs since the last write.
The files are Keras's own, so restoring stays Keras's `on_train_begin`; what Keras does not
keep (early stopping, seed generators) travels beside them (`mnist_cli.train.extra_state`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import mnist_cli.train.extra_state as extra_state
from mnist_cli import signals

MIN_INTERVAL_S = 2.0
COST_SHARE = 0.02  # a write is due once 1/COST_SHARE times its last cost has passed


def saved_epochs(backup_dir: Path) -> int:
    """Epochs completed in the backup in `backup_dir` (Keras's metadata; 0 if none)."""
    try:
        return int(json.loads((Path(backup_dir) / "training_metadata.json").read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def epoch_backup(backup_dir: Path, stopping: list[Any] | None = None) -> Any:
    """A `keras.callbacks.BackupAndRestore` that writes only when due (see module doc) and
    also carries the state of the `stopping` (early-stopping) callbacks, which must come
    before it in the callback list."""
    from mnist_cli.tfenv import import_keras

    keras = import_keras()
    stoppers = list(stopping or [])

    class EpochBackup(keras.callbacks.BackupAndRestore):
        def __init__(self) -> None:
            super().__init__(str(backup_dir), double_checkpoint=True)
            # epoch, weights, optimizer state, early-stopping states, seed-generator states
            self.snapshot: tuple[int, list[Any], list[Any], list[Any], list[Any]] | None = None
            self.written_epoch = -1
            self.written_at = time.monotonic()
            self.write_cost = 0.0

        def on_train_begin(self, logs: dict | None = None) -> None:
            super().on_train_begin(logs)  # restores weights, optimizer and epoch if saved
            done = saved_epochs(Path(backup_dir))
            extra_state.restore(Path(backup_dir), done, stoppers)
            extra_state.restore_rng(Path(backup_dir), done, self.model)
            self.written_at = time.monotonic()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            model = self.model
            self.snapshot = (epoch, model.get_weights(),
                             [v.numpy() for v in model.optimizer.variables],
                             extra_state.capture(stoppers),
                             [v.numpy() for v in extra_state.rng_variables(model)])
            last = epoch + 1 >= self.params.get("epochs", 0)
            if last or signals.pending() is not None or self._due():
                self._write(epoch, *self.snapshot[3:])

        def _due(self) -> bool:
            waited = time.monotonic() - self.written_at
            return waited >= max(MIN_INTERVAL_S, self.write_cost / COST_SHARE)

        def _write(self, epoch: int, stopper_states: list[Any], rng: list[Any]) -> None:
            start = time.monotonic()
            extra_state.save(Path(backup_dir), epoch + 1, stopper_states)
            extra_state.save_rng(Path(backup_dir), epoch + 1, rng)
            super().on_epoch_end(epoch)
            self.written_at = time.monotonic()
            self.write_cost = self.written_at - start
            self.written_epoch = epoch

        def flush(self) -> None:
            """Write the last completed epoch's snapshot if it is newer than the files."""
            if self.snapshot is None or self.snapshot[0] <= self.written_epoch:
                return
            epoch, weights, optimizer_state, stopper_states, rng = self.snapshot
            self.model.set_weights(weights)
            for variable, value in zip(self.model.optimizer.variables, optimizer_state,
                                       strict=True):
                variable.assign(value)
            self._write(epoch, stopper_states, rng)

    return EpochBackup()


def flush(callbacks: list[Any]) -> None:
    """Write any unsaved completed epoch before a graceful stop."""
    for callback in callbacks:
        if hasattr(callback, "flush") and hasattr(callback, "snapshot"):
            callback.flush()

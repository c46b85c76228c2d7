"""The engine's fit wrapped in what makes a run safe to stop: divergence and interrupt guards,
the epoch-end backup (resumed from when present) and the history that goes with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mnist_cli.training.backup as backup
import mnist_cli.training.guards as guards
import mnist_cli.training.resume as resume
from mnist_cli.config.schema import RunConfig
from mnist_cli.data.pipeline import scale_images
from mnist_cli.data.types import Dataset
from mnist_cli.runs.rundir import keras_backup_dir


def fit_callbacks(cfg: RunConfig) -> list[Any]:
    """Keras callbacks the config asks for (early stopping restores the best weights)."""
    from mnist_cli.backend import import_keras

    patience = cfg.training.early_stopping_patience
    if patience <= 0:
        return []
    return [import_keras().callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                                   restore_best_weights=True)]


def reliable_fit(cfg: RunConfig, data: Dataset, model: Any, engine: Any, global_batch: int,
                 run_dir: Path, callbacks: list[Any], command: list[str] | None,
                 done: int = 0, stopping: list[Any] | None = None
                 ) -> tuple[dict[str, list[float]], float]:
    """`engine.fit` with NaN/interrupt guards and an epoch-end backup, resuming from it if
    present; the returned history covers the whole run (`done`: epochs already in the
    backup). `stopping`: the early-stopping callbacks (default: the config's). Failures are
    recorded in metrics.json."""
    if stopping is None:  # before the backup, which saves and restores its state
        stopping = fit_callbacks(cfg)
    # Probability outputs are checked on a few training images (not logits: any is fine).
    probe = (scale_images(data.train.x[:256], cfg.data.scale)
             if cfg.model.output == "probabilities" else None)
    # The guard first (NaN weights are never backed up), then the history (saved before each
    # backup write, so it never lags the state), then the backup (every epoch: multi-worker).
    recorder = resume.history_callback(run_dir)
    safety = [guards.guard_callback(probe), recorder, backup.epoch_backup(
        keras_backup_dir(run_dir), stopping, run_dir=Path(run_dir),
        every_epoch=engine.fixed_call_steps is not None, before_write=recorder.flush)]
    try:
        _, seconds = engine.fit(cfg, data, model, global_batch,
                                [*stopping, *safety, *callbacks], done)
    except guards.Diverged as exc:
        backup.flush(safety, recorder)
        raise guards.record_failure(run_dir, cfg, exc, model, recorder.history,
                                    command) from None
    except KeyboardInterrupt as exc:
        backup.flush(safety, recorder)
        raise resume.record_interrupt(run_dir, cfg, exc, recorder.history, command) from None
    return recorder.history, seconds

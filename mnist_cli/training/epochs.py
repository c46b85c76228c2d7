"""The epoch skeleton the hand-written loops (fused engine, multi-worker loop) share with
`model.fit`: the same callback hooks in the same order, `stop_training` honoured, a resume
starting where the backup's `on_train_begin` says, and fit's history layout."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import mnist_cli.startup as startup


def drive_epochs(cbs: Any, model: Any, epochs: int, initial_epoch: int,
                 run_epoch: Callable[[int], dict[str, float]]
                 ) -> tuple[dict[str, list[float]], float]:
    """Call `run_epoch(epoch)` (it returns that epoch's logs) between the epoch hooks of the
    CallbackList `cbs`; returns the history and the seconds it all took."""
    history: dict[str, list[float]] = {}
    model.stop_training = False
    start = time.perf_counter()
    cbs.on_train_begin()
    first = getattr(model, "_initial_epoch", None) or initial_epoch  # set by the backup
    for epoch in range(first, epochs):
        cbs.on_epoch_begin(epoch)
        logs = run_epoch(epoch)
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        cbs.on_epoch_end(epoch, logs)
        if epoch == first:
            startup.settle()
        if model.stop_training:
            break
    cbs.on_train_end()
    return history, time.perf_counter() - start

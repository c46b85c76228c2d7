"""The epoch skeleton of the engine: `model.fit`'s callback hooks in the same order,
`stop_training` honoured, a resume starting at `initial_epoch`, fit's history layout; and the
one example order every backend and strategy trains in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

import mnist_cli.startup as startup


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The example order of epoch `epoch`: a function of (seed, epoch) alone, so resume stays
    exact, computed on the host (NumPy's PCG64: the same on every machine, worker, backend and
    strategy)."""
    words = [seed & 0xFFFFFFFF, seed >> 32 & 0xFFFFFFFF, epoch]
    return np.random.default_rng(words).permutation(n).astype(np.int32)


def drive_epochs(cbs: Any, model: Any, epochs: int, initial_epoch: int,
                 run_epoch: Callable[[int], dict[str, float]]
                 ) -> tuple[dict[str, list[float]], float]:
    """Call `run_epoch(epoch)` (it returns that epoch's logs) between the epoch hooks of the
    CallbackList `cbs`; returns the history and the seconds it all took."""
    history: dict[str, list[float]] = {}
    model.stop_training = False
    start = time.perf_counter()
    cbs.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        logs = run_epoch(epoch)
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        cbs.on_epoch_end(epoch, logs)
        if epoch == initial_epoch:
            startup.settle()
        if model.stop_training:
            break
    cbs.on_train_end()
    return history, time.perf_counter() - start

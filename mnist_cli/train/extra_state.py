"""State that Keras `BackupAndRestore` does not keep, saved with each backup.

It keeps weights, optimizer and epoch; a resumed run would also need early stopping's state
(patience counter, best value, best weights: without them it restarts patience and forgets
the weights it should restore) and the layers' random-seed generators (Dropout: without
them a resumed run draws the first epochs' masks again). Each is saved with the backup's
epoch and applied only to a backup of that same epoch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mnist_cli.artifacts import atomic_write, write_json

STATE = "early_stopping.json"
RNG = "seed_generators.npz"
FIELDS = ("wait", "stopped_epoch", "best", "best_epoch")


def capture(stoppers: list[Any]) -> list[dict[str, Any]]:
    """The state now (Keras replaces `best_weights` rather than mutating it: no copy)."""
    return [{**{f: getattr(s, f) for f in FIELDS}, "best_weights": s.best_weights}
            for s in stoppers]


def save(directory: Path, epochs_done: int, states: list[dict[str, Any]]) -> None:
    if not states:
        return
    directory = Path(directory)
    for i, state in enumerate(states):
        if state["best_weights"] is not None:  # restore reads it only if has_best_weights
            atomic_write(directory / f"early_stopping_{i}.npz",
                         lambda tmp, w=state["best_weights"]: _savez(tmp, w))
    write_json(directory / STATE, {
        "epoch": epochs_done,
        "stoppers": [{f: _plain(s[f]) for f in FIELDS} | {"has_best_weights":
                     s["best_weights"] is not None} for s in states]})


def restore(directory: Path, epochs_done: int, stoppers: list[Any]) -> None:
    """Apply the saved state if it belongs to the backup being resumed (`epochs_done`)."""
    directory = Path(directory)
    try:
        saved = json.loads((directory / STATE).read_text())
    except (OSError, ValueError):
        return
    if saved.get("epoch") != epochs_done or len(saved.get("stoppers", [])) != len(stoppers):
        return
    for i, (stopper, state) in enumerate(zip(stoppers, saved["stoppers"], strict=True)):
        for f in FIELDS:
            setattr(stopper, f, state[f])
        if state["has_best_weights"]:
            with np.load(directory / f"early_stopping_{i}.npz", allow_pickle=False) as npz:
                stopper.best_weights = [npz[f"w{k}"] for k in range(len(npz.files))]


def _savez(path: Path, weights: list[Any]) -> None:
    with open(path, "wb") as fh:
        np.savez(fh, **{f"w{k}": np.asarray(w) for k, w in enumerate(weights)})


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def rng_variables(model: Any) -> list[Any]:
    """The model's state beyond its weights: SeedGenerator states (Dropout and the like)."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def save_rng(directory: Path, epochs_done: int, values: list[Any]) -> None:
    if values:
        atomic_write(Path(directory) / RNG, lambda tmp: _savez(
            tmp, [np.asarray(epochs_done), *values]))


def restore_rng(directory: Path, epochs_done: int, model: Any) -> None:
    variables = rng_variables(model)
    try:
        with np.load(Path(directory) / RNG, allow_pickle=False) as npz:
            saved = [npz[f"w{k}"] for k in range(len(npz.files))]
    except (OSError, ValueError):
        return
    if int(saved[0]) != epochs_done or len(saved) - 1 != len(variables):
        return
    for variable, value in zip(variables, saved[1:], strict=True):
        variable.assign(value)

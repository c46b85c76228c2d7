"""The training state an epoch backup holds, and its one-file `.npz` form.

Resuming exactly needs more than the weights: the optimizer's variables (Adam's moments and
iteration count), early stopping's state (patience counter, best value, best weights:
without them it restarts patience and forgets the weights it should restore) and the
layers' random-seed generators (Dropout: without them a resumed run draws the first epochs'
masks again). All of it travels in one file, so its parts can never disagree on the epoch.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnist_cli.errors import UsageError
from mnist_cli.runs.artifacts import atomic_write

STATE_FILE = "state.npz"
FIELDS = ("wait", "stopped_epoch", "best", "best_epoch")


@dataclass
class TrainingState:
    """Everything one completed epoch leaves behind that a resumed run must restore."""

    epoch: int  # epochs completed
    weights: list[np.ndarray]
    optimizer: list[np.ndarray]
    rng: list[np.ndarray] = field(default_factory=list)
    stoppers: list[dict[str, Any]] = field(default_factory=list)  # FIELDS + best_weights


def rng_variables(model: Any) -> list[Any]:
    """The model's state beyond its weights: SeedGenerator states (Dropout and the like)."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def capture(epochs_done: int, model: Any, stoppers: list[Any]) -> TrainingState:
    """The state now, as copies (Keras replaces `best_weights` rather than mutating it)."""
    return TrainingState(
        epoch=epochs_done, weights=model.get_weights(),
        optimizer=[np.array(v.numpy()) for v in model.optimizer.variables],
        rng=[np.array(v.numpy()) for v in rng_variables(model)],
        stoppers=[{**{f: _plain(getattr(s, f)) for f in FIELDS},
                   "best_weights": s.best_weights} for s in stoppers])


def apply(state: TrainingState, model: Any, stoppers: list[Any]) -> None:
    """Put a saved state back into the model, its optimizer and the early-stopping
    callbacks (an optimizer not built yet is built first, as Keras's own restore does)."""
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.set_weights(state.weights)
    _assign(model.optimizer.variables, state.optimizer, "optimizer")
    _assign(rng_variables(model), state.rng, "seed-generator")
    if len(state.stoppers) != len(stoppers):
        raise UsageError(f"the backup has {len(state.stoppers)} early-stopping state(s), the "
                         f"config {len(stoppers)}; start a new run")
    for stopper, saved in zip(stoppers, state.stoppers, strict=True):
        for f in FIELDS:
            setattr(stopper, f, saved[f])
        stopper.best_weights = saved["best_weights"]


def _assign(variables: list[Any], values: list[np.ndarray], what: str) -> None:
    if len(variables) != len(values):
        raise UsageError(f"the backup holds {len(values)} {what} variables, the model "
                         f"{len(variables)}: it belongs to another model; start a new run")
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def write_state(path: Path, state: TrainingState) -> None:
    """One atomic `.npz`; a full disk raises OSError and leaves the previous file whole."""
    arrays: dict[str, np.ndarray] = {"epoch": np.asarray(state.epoch)}
    for prefix, values in (("w", state.weights), ("o", state.optimizer), ("r", state.rng)):
        arrays.update({f"{prefix}{k}": np.asarray(v) for k, v in enumerate(values)})
    meta = []
    for i, s in enumerate(state.stoppers):
        best = s["best_weights"]
        meta.append({f: s[f] for f in FIELDS} | {"has_best_weights": best is not None})
        arrays.update({f"s{i}_{k}": np.asarray(w) for k, w in enumerate(best or [])})
    arrays["stoppers"] = np.asarray(json.dumps(meta))
    atomic_write(path, lambda tmp: _savez(tmp, arrays))


def _savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def read_state(path: Path) -> TrainingState | None:
    """The saved state, None if there is no backup; an unreadable one is a UsageError."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = json.loads(str(arrays["stoppers"]))
        return TrainingState(
            epoch=int(arrays["epoch"]), weights=_series(arrays, "w"),
            optimizer=_series(arrays, "o"), rng=_series(arrays, "r"),
            stoppers=[{**{f: m[f] for f in FIELDS}, "best_weights": _series(
                arrays, f"s{i}_") if m["has_best_weights"] else None}
                for i, m in enumerate(meta)])
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise UsageError(f"the backup {path} cannot be read ({exc}); it was changed or "
                         "damaged after it was written: start a new run") from None


def _series(arrays: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    out, k = [], 0
    while f"{prefix}{k}" in arrays:
        out.append(arrays[f"{prefix}{k}"])
        k += 1
    return out


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value

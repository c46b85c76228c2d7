"""The Keras backend `evaluate` and `predict` run on, chosen before Keras loads.

`--backend` (`backend=`) decides when given, strictly: JAX not installed, or Keras already
running on the other backend in this process, is a UsageError (exit 2). Without it the
model runs where it was trained (its run's `training.backend`; TensorFlow for a `.keras`
file with no run around it), unless that is not possible here: Keras already runs on the
other backend in this process (a notebook, a pytest session), or the run trained on JAX and
JAX is not installed. A `.keras` file is backend-independent and both backends give the same
classes, so the model then runs on the one that can, with a note saying so.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from mnist_cli.backend import DEFAULT, JAX_EXTRA, loaded_backend, select_backend
from mnist_cli.errors import UsageError


def recorded_backend(target: str | Path) -> str:
    """The backend the run of `target` trained on (its config's `training.backend`);
    TensorFlow for a `.keras` file without a run directory. Reads no Keras."""
    from mnist_cli.modeling.io import locate, read_run_config

    try:
        _, run_dir = locate(Path(target))
    except UsageError:
        return DEFAULT  # load_model reports the missing target with its own message
    config = read_run_config(run_dir)
    return config.training.backend if config is not None else DEFAULT


def choose_backend(asked: str | None, target: str | Path, notes: list[str]) -> str:
    """Select the backend to run `target`'s model on (see the module docstring); a note
    is appended to `notes` when the default could not be the run's own backend."""
    if asked is not None:
        return select_backend(asked, key="--backend")
    trained = recorded_backend(target)
    running = loaded_backend()
    if running is not None and running != trained:
        notes.append(f"the model was trained on {trained}, but Keras already runs on "
                     f"{running} in this process: running it on {running} (for {trained}, "
                     f"use a new process)")
        return select_backend(running)
    if trained == "jax" and importlib.util.find_spec("jax") is None:
        notes.append(f"the model was trained on jax, which is not installed here: running it "
                     f"on tensorflow ({JAX_EXTRA} for jax)")
        return select_backend("tensorflow")
    return select_backend(trained)


def check_strategy(backend: str, scfg: Any) -> None:
    """A strategy the backend lacks is a UsageError naming what to use, before any work."""
    from mnist_cli.distribute.jax_strategies import refusal

    error = refusal(backend, scfg, key="--backend")
    if error is not None:
        raise error

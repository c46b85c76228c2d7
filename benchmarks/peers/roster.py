"""The contenders of the peer bench: what each runs, on which models, and whether it can run
here (a missing framework, or a mnist-cli checkout without the JAX backend, is a skip with a
note, never a failure)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import mnist_cli_train

PEERS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Contender:
    """`script` is a peer script printing one JSON line; None means `mnist-cli train`."""

    name: str
    label: str
    script: str | None = None
    args: tuple[str, ...] = ()
    models: tuple[str, ...] = ("mlp", "cnn")
    backend: str = "tensorflow"
    needs: tuple[str, ...] = field(default=())
    jax_cache: str | None = None
    """mnist-cli on JAX: "cold" (an empty compilation cache per run, like a fresh machine or
    CI job; the peers keep no cache) or "warm" (one shared cache, filled by an unmeasured run)."""


CONTENDERS = (
    Contender("mnist_cli", "mnist-cli (default: TF, fused)", needs=("tensorflow",)),
    Contender("mnist_cli_jax", "mnist-cli --backend jax (cold compile cache)", backend="jax",
              needs=("jax",), jax_cache="cold"),
    Contender("mnist_cli_jax_warm", "mnist-cli --backend jax (warm compile cache)",
              backend="jax", needs=("jax",), jax_cache="warm"),
    Contender("keras_fit_tf", "Keras fit on TF, hand-tuned", "keras_fit.py",
              ("--backend", "tensorflow"), needs=("tensorflow", "keras")),
    Contender("keras_fit_jax", "Keras fit on JAX", "keras_fit.py", ("--backend", "jax"),
              needs=("jax", "keras")),
    Contender("jax_scan", "pure JAX + optax, lax.scan", "jax_scan.py",
              needs=("jax", "optax")),
    Contender("jax_scan_im2col", "pure JAX, im2col conv", "jax_scan.py",
              ("--conv", "im2col"), models=("cnn",), needs=("jax", "optax")),
    Contender("torch_eager", "PyTorch eager (CPU)", "torch_eager.py", needs=("torch",)),
)


def missing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def cli_backend_support(backend: str) -> str | None:
    """How this checkout's mnist-cli selects `backend`: "flag" (`train --backend`), "set"
    (`--set training.backend=...` accepted by `config show`), or None (not built yet)."""
    env = {**os.environ, "COLUMNS": "200", "TF_CPP_MIN_LOG_LEVEL": "3"}
    cli = mnist_cli_train.executable()
    helptext = subprocess.run([*cli, "train", "--help"], capture_output=True, text=True,
                              env=env).stdout
    if "--backend" in helptext:
        return "flag"
    probe = subprocess.run([*cli, "config", "show", "--set", f"training.backend={backend}",
                            "--json"], capture_output=True, text=True, env=env)
    return "set" if probe.returncode == 0 else None


def availability(c: Contender) -> tuple[str | None, str | None]:
    """(skip note or None, how mnist-cli selects the backend) for one contender."""
    absent = missing(c.needs)
    if absent:
        return f"not installed: {', '.join(absent)}", None
    if c.script is not None or c.backend == "tensorflow":
        return None, None
    how = cli_backend_support(c.backend)
    if how is None:
        return (f"this mnist-cli has no {c.backend} backend yet (neither `train --backend` "
                f"nor `training.backend` in configs)"), None
    return None, how


def peer_command(c: Contender, model: str, data: str, epochs: int, seed: int,
                 learning_rate: float, batch_size: int) -> list[str]:
    assert c.script is not None
    return [sys.executable, str(PEERS / c.script), *c.args, "--data", data, "--model", model,
            "--epochs", str(epochs), "--seed", str(seed), "--learning-rate", str(learning_rate),
            "--batch-size", str(batch_size)]

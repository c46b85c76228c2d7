"""Plain helpers shared by test modules (fixtures live in conftest.py).

Test modules import from here, never from each other or from conftest.py, so a test file can
be moved, renamed or run alone without dragging another test module's collection along.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from mnist_cli.data.types import DataDescription, Dataset, Split

ROOT = Path(__file__).resolve().parents[1]

F = TypeVar("F", bound=Callable)

TrainRun = Callable[..., tuple[Path, Dataset]]
"""The `train_run` fixture: `train_run(run_dir, output="logits", epochs=4)`."""


BN_DROPOUT_LAYERS = ("Conv2D: {filters: 4, kernel_size: 3, activation: relu}",
                     "BatchNormalization: {}", "MaxPooling2D: {pool_size: 2}", "Flatten: {}",
                     "Dropout: {rate: 0.5}", "Dense: {units: 10}")
"""A small CNN with state beyond its weights (BatchNorm statistics, Dropout's seed)."""
DROPOUT_LAYERS = ("Flatten: {}", "Dense: {units: 64, activation: relu}", "Dropout: {rate: 0.3}",
                  "Dense: {units: 10}")
"""An MLP with Dropout: its random state must survive a resume."""


def digits_yaml(name: str, layers: tuple[str, ...], epochs: int,
                backend: str | None = None) -> str:
    """A run config on the bundled digits (learning rate 0.01, batch 32): the engine, resume
    and JAX-backend tests train the same models, on either backend."""
    on = f", backend: {backend}" if backend else ""
    return (f"name: {name}\nmodel:\n  layers:\n" + "".join(f"    - {layer}\n" for layer in layers)
            + f"training: {{learning_rate: 0.01, epochs: {epochs}, batch_size: 32{on}}}\n"
            + "data: {spec: digits}\n")


def run_jax_script(script: Path, out: Path, *args: str, host_devices: int = 1,
                   timeout: float = 600) -> dict[str, Any]:
    """Run a tests/backend_scripts/ script in a fresh process (Keras picks its backend once
    per process, and pytest's runs on TensorFlow) with `host_devices` forced XLA CPU devices
    and its own compilation cache; returns the OUT/results.json it wrote."""
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(out / "xla-cache"),
           "KERAS_HOME": str(out / "kh"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    if host_devices > 1:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={host_devices}"
    env.pop("KERAS_BACKEND", None)
    done = subprocess.run([sys.executable, str(script), str(out), *args], env=env, cwd=out,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def scenario_result(results: dict[str, Any], name: str) -> dict[str, Any]:
    """One scenario's record from a backend script, failing the test with its traceback."""
    found = results[name]
    assert "error" not in found, found.get("traceback", found)
    return found


def cli_cmd(*args: str) -> list[str]:
    """Run the CLI as `python -m mnist_cli` with this interpreter."""
    return [sys.executable, "-m", "mnist_cli", *args]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in this process with typer's CliRunner (a fresh interpreter costs ~10 s of
    TensorFlow import per call); the result reads like `subprocess.run`'s. Use a real
    subprocess only where the process matters (signals, multi-worker, packaging)."""
    from typer.testing import CliRunner

    from mnist_cli.cli.app import app

    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # an escaped exception is a bug: show it, don't hide it
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout,
                                       result.stderr)


def slow_fixture(func: F) -> F:
    """Mark a fixture as slow (it trains, or starts training subprocesses): every test that
    uses it, directly or through other fixtures, gets the `slow` marker and leaves
    `make test-fast`. Apply it under `@pytest.fixture`."""
    func.slow_fixture = True  # type: ignore[attr-defined]
    return func


SLOW_FIXTURES = {
    "cli_env",  # the CLI in a subprocess: a fresh TensorFlow import, usually training
    "trained",  # tests/test_cli.py: a CLI training run in a subprocess
    "trio",  # tests/test_compare.py: 9 real training runs
}
"""Fixtures in test modules that make every test using them slow, by name (fixtures defined
in conftest.py use the `slow_fixture` decorator instead, like `train_run`)."""


def is_slow(item: pytest.Item) -> bool:
    """Marked slow, or needs a slow fixture anywhere in its fixture closure."""
    if item.get_closest_marker("slow"):
        return True
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    for name, defs in info.name2fixturedefs.items():
        if name in SLOW_FIXTURES or any(getattr(d.func, "slow_fixture", False) for d in defs):
            return True
    return False


def make_digits_dataset() -> Dataset:
    """The 1,797 bundled 8x8 digits as uint8 images, split 1200 / 200 / 397 by a fixed
    permutation: the tests own the split, so no test depends on the loader under test."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images * 255 / 16).astype(np.uint8)[..., None]
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(0).permutation(len(y))
    tr, va, te = idx[:1200], idx[1200:1400], idx[1400:]
    desc = DataDescription("digits (test fixture)", (8, 8, 1), 10,
                           {"train": 1200, "validation": 200, "test": len(te)},
                           sha256=hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest())
    return Dataset(Split(x[tr], y[tr]), Split(x[va], y[va]), Split(x[te], y[te]), desc)


# IDX files (the original MNIST format), written small for tests.
def idx_images(x: np.ndarray) -> bytes:
    return struct.pack(">IIII", 0x0803, *x.shape) + x.astype(np.uint8).tobytes()


def idx_labels(y: np.ndarray) -> bytes:
    return struct.pack(">II", 0x0801, len(y)) + y.astype(np.uint8).tobytes()


def put(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def make_pair(
    d: Path, prefix: str, n: int, gz: bool, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 28, 28))
    y = np.arange(n) % 10
    ext = ".gz" if gz else ""
    put(d / f"{prefix}-images-idx3-ubyte{ext}", idx_images(x))
    put(d / f"{prefix}-labels-idx1-ubyte{ext}", idx_labels(y))
    return x, y


def poisoned_digits(seed: int, position: int, value: float = np.inf) -> Dataset:
    """The bundled digits split with `seed`, whose training image at `position` of the
    engine's first-epoch order (`epochs.epoch_order(seed, 0)`) holds one pixel `value` (inf:
    the gradients of the step and replica that train on it are non-finite)."""
    from dataclasses import replace

    from mnist_cli.config.schema import DataConfig
    from mnist_cli.data import load_dataset
    from mnist_cli.training.epochs import epoch_order

    data = load_dataset(DataConfig(spec="digits"), seed)
    x = data.train.x.astype(np.float32)
    x[epoch_order(seed, 0, len(data.train))[position]].flat[10] = value
    return replace(data, train=replace(data.train, x=x))


def fit_until_divergence(cfg: Any, data: Dataset, strategy: Any, global_batch: int
                         ) -> tuple[Any, str]:
    """Prepare `data`, build the model in `strategy`'s scope and train it once through the
    engine: (model, the divergence message, or "no divergence")."""
    from mnist_cli.errors import RunFailed
    from mnist_cli.training import pipeline
    from mnist_cli.training.fused import Engine

    data = pipeline.prepare(cfg, data)
    model = pipeline.build_in_scope(cfg, data, strategy)
    try:
        Engine.for_strategy(strategy, model).fit(cfg, data, model, global_batch, [])
    except RunFailed as exc:
        return model, str(exc)
    return model, "no divergence"

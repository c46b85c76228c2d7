"""gradcheck on the JAX backend, in one fresh process: write what happened to OUT/results.json
and the checked weights, batch and autodiff gradients to OUT/<name>.npz, for
tests/test_gradcheck_jax.py to compare with the same check on TensorFlow.

Keras picks its backend at its first import, so a pytest process (on TensorFlow) cannot run
gradcheck on JAX: this script does, once for every scenario. A scenario that raises is
recorded with its error, so one failure does not hide the others.

Usage: python tests/backend_scripts/jax_gradcheck.py OUT
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from recorder import RESULTS, save, scenario

OUT = Path(sys.argv[1])
PARAMS, DIRECTIONS, BATCH = 12, 3, 24
"""Small on purpose: the comparison with TensorFlow is about the same numbers, not coverage."""
KINKED = ("relu", "relu6", "hard_sigmoid", "tanh", "threshold")
"""Activations whose kinks are derived again on JAX (sparsemax's support alone takes 2 s)."""




def digits(n: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
    """The first n bundled 8x8 digits scaled to [0, 1], as images (the tests' batch)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images[:n] / 16.0).reshape(-1, 8, 8, 1), d.target[:n].astype(np.int64)


def built(config: str, seed: int = 0) -> tuple[Any, Any]:
    """(config, the config's model for 8x8 digits, seeded) on JAX."""
    from mnist_cli.config import Overrides, resolve_config
    from mnist_cli.modeling.build import build_model
    from mnist_cli.training.seeding import seed_everything

    cfg = resolve_config(config, Overrides(backend="jax"))
    seed_everything(seed, deterministic=False)
    return cfg, build_model(cfg.model, (8, 8, 1), 10, name=config)


def train_once(name: str) -> list[np.ndarray]:
    """One short seeded JAX training (its final weights): run before and after the checks."""
    from mnist_cli import train

    run = train("mlp_relu", data="digits", epochs=1, seed=3, backend="jax", no_plots=True,
                no_tensorboard=True, run_dir=OUT / name)
    return [np.asarray(w) for w in run.model.get_weights()]


BEFORE = train_once("train_before")


def autodiff_of(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], float]:
    """The float64 autodiff gradients and loss that the check compares (JAX side)."""
    from mnist_cli.gradients.autodiff import float64_mode, to_tensor
    from mnist_cli.gradients.clone import autodiff_gradients, float64_clone

    with float64_mode():
        clone = float64_clone(model)
        return autodiff_gradients(clone, to_tensor(x), to_tensor(y), True)


def same_as_tensorflow(config: str) -> dict[str, Any]:
    """The check and the autodiff gradients, saved with the weights and batch."""
    from mnist_cli.gradients import check_model

    x, y = digits()
    cfg, model = built(config)
    result = check_model(model, x, y, from_logits=True, params=PARAMS, epsilon=1e-5, seed=0,
                         directions=DIRECTIONS, name=config)
    grads, loss = autodiff_of(model, x, y)
    arrays = {f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}
    arrays.update({f"g{i}": g for i, g in enumerate(grads)})
    np.savez(OUT / f"{config}.npz", x=x, y=y, loss=loss, **arrays)
    return {"result": result.to_dict(), "weights": len(model.get_weights())}


@scenario
def mlp_relu() -> dict[str, Any]:
    return same_as_tensorflow("mlp_relu")


@scenario
def cnn() -> dict[str, Any]:
    return same_as_tensorflow("cnn")


@scenario
def planted_bug() -> dict[str, Any]:
    """One sign flipped in the first kernel's gradient: both checks must fail."""
    from mnist_cli.gradients import check_model

    def flip(grads: list[np.ndarray]) -> list[np.ndarray]:
        g = grads[0].ravel()
        k = int(np.argmax(np.abs(g)))
        g[k] = -g[k]
        grads[0] = g.reshape(grads[0].shape)
        return grads

    x, y = digits()
    flipped = check_model(built("mlp_relu")[1], x, y, from_logits=True, params=PARAMS,
                          epsilon=1e-5, seed=0, directions=DIRECTIONS, gradient_hook=flip)
    scaled = check_model(built("mlp_relu")[1], x, y, from_logits=True, params=PARAMS,
                         epsilon=1e-5, seed=0, directions=DIRECTIONS,
                         gradient_hook=lambda grads: [g * 1.0001 for g in grads])
    return {"flipped": flipped.to_dict(), "scaled": scaled.to_dict()}


def pool_model(keras: Any) -> Any:
    """A linear convolution, then 3x3 max pooling with stride 2 and 'same' padding (6x6 ->
    3x3, one padded row and column): its only kinks are the pool's."""
    from mnist_cli.training.seeding import seed_everything

    seed_everything(1, deterministic=False)
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(3, 3),
                             keras.layers.MaxPooling2D(3, strides=2, padding="same"),
                             keras.layers.Flatten(), keras.layers.Dense(10)])


@scenario
def kinks() -> dict[str, Any]:
    """ReLU kinks (mlp_relu) and max-pool kinks alone (a linear conv before the pool) at a
    large epsilon: found, left out, and the rest still agrees."""
    from mnist_cli.backend import import_keras
    from mnist_cli.gradients import check_model
    from mnist_cli.gradients.activations import activation_kinks

    keras = import_keras()
    x, y = digits()
    relu = check_model(built("mlp_relu")[1], x, y, from_logits=True, params=PARAMS,
                       epsilon=1e-2, seed=0, directions=DIRECTIONS)
    pooled = pool_model(keras)
    np.savez(OUT / "pool.npz", *[np.asarray(w) for w in pooled.get_weights()])
    pool = check_model(pooled, x, y, from_logits=True, params=PARAMS, epsilon=1e-2, seed=0,
                       directions=DIRECTIONS)
    derived = {name: activation_kinks(name) for name in KINKED}
    return {"relu": relu.to_dict(), "pool": pool.to_dict(), "derived": derived}


def rendered(renderable: Any) -> str:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200, record=True)
    console.print(renderable)
    return console.export_text()


@scenario
def logistic() -> dict[str, Any]:
    from mnist_cli.gradients import render, run_logistic_gradcheck

    x, y = digits()
    result = run_logistic_gradcheck(x, y, digit=3, params=None, seed=0)
    return {"result": result.to_dict(), "rendered": rendered(render(result))}


@scenario
def softmax_as_logits_note() -> dict[str, Any]:
    """A softmax output under a logits loss: Keras on JAX does not swap in the values before
    the softmax (as on TensorFlow), and the note says what happens here."""
    from mnist_cli.backend import import_keras
    from mnist_cli.gradients.clone import logits_note

    keras = import_keras()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    return {"notes": logits_note(model, True)}


@scenario
def x64_off_refused() -> dict[str, Any]:
    """Without JAX's x64 mode float64 silently becomes float32: refused, never checked. Once
    for the whole check (the weights already hold float32), once for a clone made in x64
    mode whose loss and gradients are then computed without it."""
    from mnist_cli.backend import import_keras
    from mnist_cli.errors import RunFailed
    from mnist_cli.gradients import check_model
    from mnist_cli.gradients.autodiff import float64_mode, to_tensor
    from mnist_cli.gradients.clone import autodiff_gradients, float64_clone

    keras = import_keras()
    x, y = digits()
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    messages = []
    with mock.patch("mnist_cli.gradients.numeric.float64_mode", contextlib.nullcontext):
        try:
            check_model(model, x, y, from_logits=True, params=PARAMS, epsilon=1e-5, seed=0,
                        directions=0)
        except RunFailed as exc:
            messages.append(str(exc))
    with float64_mode():
        clone = float64_clone(model)
    try:
        autodiff_gradients(clone, to_tensor(x), to_tensor(y), True)
    except RunFailed as exc:
        messages.append(str(exc))
    return {"messages": messages}


@scenario
def cli() -> dict[str, Any]:
    """The config's backend (`--set training.backend=jax`, no --backend) is checked on JAX;
    --backend tensorflow in this JAX process is a usage error (exit 2)."""
    from mnist_cli.cli.app import app

    def invoke(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                app(["gradcheck", "--data", "digits", "--batch", str(BATCH), "--params",
                     str(PARAMS), "--directions", str(DIRECTIONS), *args], prog_name="mnist-cli")
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
        return code, out.getvalue(), err.getvalue()

    code, out, err = invoke("--set", "training.backend=jax", "--json", "--run-dir",
                            str(OUT / "cli"))
    table = invoke("--backend", "jax")
    refused = invoke("--backend", "tensorflow")
    saved = json.loads((OUT / "cli" / "gradcheck.json").read_text())
    return {"code": code, "report": json.loads(out or "null"), "stderr": err,
            "saved": saved, "table": list(table), "refused": list(refused)}


@scenario
def afterwards() -> dict[str, Any]:
    """JAX back to float32, Keras's promotion rule restored, the same training as before."""
    import jax
    from keras.src.backend.common import dtypes

    after = train_once("train_after")
    same = all(np.array_equal(a, b) for a, b in zip(BEFORE, after, strict=True))
    return {"x64": bool(jax.config.x64_enabled),
            "default_float": str(jax.numpy.asarray(np.float64(1.0)).dtype),
            "keras_float64_promotes_to": dtypes.BIT64_TO_BIT32_DTYPE["float64"],
            "weights_dtypes": sorted({str(w.dtype) for w in after}),
            "same_training": same}


RESULTS["tensorflow_imported_at_end"] = "tensorflow" in sys.modules
save(OUT)

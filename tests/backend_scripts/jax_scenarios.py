"""Run the engine's guarantees on the JAX backend in one fresh process; write what happened to
OUT/results.json for tests/test_jax_backend.py to check.

Keras picks its backend at its first import, so a pytest process (on TensorFlow) cannot train
on JAX: this script does, once, for every scenario (one JAX import, and the compiled programs
shared through a persistent cache in OUT). It is started with two host devices
(XLA_FLAGS=--xla_force_host_platform_device_count=2) for the data-parallel scenario; the
others run on the first. A scenario that raises is recorded with its error, so one failure
does not hide the others.

Usage: python tests/backend_scripts/jax_scenarios.py OUT
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from recorder import RESULTS, save, scenario

from tests.helpers import BN_DROPOUT_LAYERS, DROPOUT_LAYERS, digits_yaml

OUT = Path(sys.argv[1])
BN_DROPOUT_YAML = digits_yaml("bn_dropout", BN_DROPOUT_LAYERS, epochs=2, backend="jax")

DROPOUT_YAML = digits_yaml("mlp_dropout", DROPOUT_LAYERS, epochs=4, backend="jax")




def cfg_for(config: str = "mlp_relu", **kw: Any) -> Any:
    from mnist_cli.config import Overrides, resolve_config

    sets = ["training.backend=jax", *kw.pop("sets", [])]
    return resolve_config(config, Overrides(data=kw.pop("data", "digits"), sets=sets, **kw))


def weights(model: Any) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


def same_weights(a: Any, b: Any) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(weights(a), weights(b), strict=True))


def cli_json(*args: str) -> tuple[int, Any, str]:
    """`mnist-cli ARGS --json` in this process: (exit code, parsed stdout, stderr)."""
    from mnist_cli.cli.app import app

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            app([*args, "--json"], prog_name="mnist-cli")
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, json.loads(out.getvalue() or "null"), err.getvalue()


@scenario
def cli_run() -> dict[str, Any]:
    """The CLI end to end: JSON, a failing gate (exit 1 after every artifact), the CI step
    summary, curves, TensorBoard, timings; no TensorFlow imported."""
    run = OUT / "cli"
    os.environ["GITHUB_STEP_SUMMARY"] = str(OUT / "summary.md")
    code, metrics, err = cli_json("train", "--data", "digits", "--epochs", "3", "--seed", "0",
                                  "--backend", "jax", "--run-dir", str(run),
                                  "--fail-under", "test_accuracy=0.999")
    os.environ.pop("GITHUB_STEP_SUMMARY")
    import keras

    model = keras.saving.load_model(run / "model.keras")
    probe = np.linspace(0, 1, 5 * 64, dtype=np.float32).reshape(5, 8, 8, 1)
    np.save(OUT / "probe_outputs.npy", np.asarray(model(probe)))
    return {"code": code, "metrics": metrics, "stderr": err,
            "files": sorted(p.name for p in run.iterdir()),
            "tensorflow_imported": "tensorflow" in sys.modules,
            "keras_backend": keras.backend.backend()}


def twice(cfg_maker: Callable[[], Any], name: str, uint8: bool) -> dict[str, Any]:
    """The same seed twice: once as is, once one step per call (with uint8 images)."""
    from mnist_cli.data import pipeline
    from mnist_cli.training import fused, run_training

    first = run_training(cfg_maker(), OUT / f"{name}_a")
    saved = fused.TARGET_CALL_S, fused.FIRST_CALL_STEPS, pipeline.FLOAT32_BUDGET_BYTES
    fused.TARGET_CALL_S, fused.FIRST_CALL_STEPS = 1e-9, 1
    pipeline.FLOAT32_BUDGET_BYTES = 0 if uint8 else saved[2]
    try:
        second = run_training(cfg_maker(), OUT / f"{name}_b")
    finally:
        fused.TARGET_CALL_S, fused.FIRST_CALL_STEPS, pipeline.FLOAT32_BUDGET_BYTES = saved
    return {"same_history": first.history == second.history,
            "same_weights": same_weights(first.model, second.model),
            "images": [first.metrics["engine"]["images"], second.metrics["engine"]["images"]],
            "test_accuracy": first.metrics["test_accuracy"], "history": first.history}


@scenario
def reproducible_mlp() -> dict[str, Any]:
    return twice(lambda: cfg_for(epochs=3, seed=5), "mlp", uint8=True)


@scenario
def reproducible_bn_dropout() -> dict[str, Any]:
    """BatchNormalization: the partial last batch runs as its own step; Dropout's seed."""
    from mnist_cli.config import Overrides, resolve_config

    path = OUT / "bn.yaml"
    path.write_text(BN_DROPOUT_YAML)
    result = twice(lambda: resolve_config(str(path), Overrides(seed=2)), "bn", uint8=False)
    from mnist_cli.training import jax_state

    model = __import__("keras").saving.load_model(OUT / "bn_a" / "model.keras")
    result["per_example"] = jax_state.per_example(model)
    return result


def poisoned(seed: int, batch: int, step: int, value: float) -> Any:
    """Digits whose one training image, in `step` (1-based) of epoch 1, holds `value`."""
    from mnist_cli.config.schema import DataConfig
    from mnist_cli.data import load_dataset
    from mnist_cli.training.fused_jax import epoch_order

    data = load_dataset(DataConfig(spec="digits"), seed)
    order = epoch_order(seed, 0, len(data.train))
    x = data.train.x.astype(np.float32)
    x[order[(step - 1) * batch + 3]].flat[10] = value
    return replace(data, train=replace(data.train, x=x))


@scenario
def nan_loss() -> dict[str, Any]:
    """An inf pixel: caught at its exact step, nothing of that step applied."""
    from mnist_cli.errors import RunFailed
    from mnist_cli.modeling.build import build_model, compile_model
    from mnist_cli.training import fused, fused_jax, run_training

    seed, batch, step = 4, 16, 23
    data = poisoned(seed, batch, step, np.inf)
    cfg = cfg_for(epochs=2, seed=seed, batch_size=batch)
    try:
        run_training(cfg, OUT / "nan", dataset=data)
        raised = None
    except RunFailed as exc:
        raised = {"type": type(exc).__name__, "what": getattr(exc, "what", None),
                  "message": str(exc)}
    found: dict[str, Any] = {"raised": raised, "step": step, "failure": json.loads(
        (OUT / "nan" / "metrics.json").read_text())["failure"]}
    for mode, stepwise in (("loop", False), ("stepwise", True)):  # see loops_slowly
        model = build_model(cfg.model, data.description.image_shape, 10)
        compile_model(model, cfg.model, cfg.training)
        saved, fused_jax.loops_slowly = fused_jax.loops_slowly, lambda _, s=stepwise: s
        try:
            with contextlib.suppress(RunFailed):
                fused.Engine.for_strategy(None, model).fit(cfg, data, model, batch, [])
        finally:
            fused_jax.loops_slowly = saved
        found[mode] = {"weights_finite": all(np.isfinite(w).all() for w in weights(model)),
                       "iterations": int(np.asarray(model.optimizer.iterations))}
    return found


@scenario
def nan_gradients() -> dict[str, Any]:
    """sqrt(x + b) at x = -1: a finite loss with an inf gradient (IEEE, every CPU)."""
    import keras

    from mnist_cli.errors import RunFailed
    from mnist_cli.training import fused
    from mnist_cli.training.seeding import seed_everything

    class SqrtOfShift(keras.layers.Layer):
        def build(self, input_shape: Any) -> None:
            self.shift = self.add_weight(shape=(), initializer="ones", name="shift",
                                         constraint=lambda w: keras.ops.ones(()))

        def call(self, x: Any) -> Any:
            return keras.ops.sqrt(x + self.shift)

    seed, batch, step = 4, 16, 7
    data = poisoned(seed, batch, step, -255.0)
    seed_everything(0, True)  # keras.utils.set_random_seed would import TensorFlow
    model = keras.Sequential([keras.Input(data.description.image_shape),
                              keras.layers.Flatten(), SqrtOfShift(), keras.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    try:
        fused.Engine.for_strategy(None, model).fit(
            cfg_for(epochs=1, seed=seed, batch_size=batch), data, model, batch, [])
        raised = None
    except RunFailed as exc:
        raised = {"what": exc.what, "value": exc.value, "message": str(exc)}
    return {"raised": raised, "step": step,
            "weights_finite": all(np.isfinite(w).all() for w in weights(model)),
            "iterations": int(np.asarray(model.optimizer.iterations))}


def stop_after(epoch: int) -> Any:
    """A callback that stops the run as a SIGINT would, once `epoch` epochs are done."""
    import keras

    from mnist_cli.signals import Interrupted

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, e: int, logs: dict | None = None) -> None:
            if e + 1 == epoch:
                raise Interrupted(signal.SIGINT)

    return Stop()


@scenario
def resume() -> dict[str, Any]:
    """Interrupted after epoch 2 of 4 and resumed == never stopped (Dropout included)."""
    from mnist_cli.config import Overrides, resolve_config
    from mnist_cli.signals import Interrupted
    from mnist_cli.training import run_training
    from mnist_cli.training.resume import load_resume_config

    path = OUT / "dropout.yaml"
    path.write_text(DROPOUT_YAML)
    reference = run_training(resolve_config(str(path), Overrides(seed=4)), OUT / "ref")
    run = OUT / "resumed"
    try:
        run_training(resolve_config(str(path), Overrides(seed=4)), run,
                     callbacks=[stop_after(2)])
        interrupted = False
    except Interrupted:
        interrupted = True
    resumed = run_training(load_resume_config(run), run)
    keys = ("test_loss", "test_accuracy", "final", "epochs_run")
    return {"interrupted": interrupted, "resumed_from": resumed.metrics["resumed_from_epoch"],
            "equal": {k: resumed.metrics[k] == reference.metrics[k] for k in keys},
            "same_weights": same_weights(resumed.model, reference.model)}


@scenario
def early_stopping() -> dict[str, Any]:
    """Patience 2: stops before epoch 20 and keeps the best epoch's weights."""
    from mnist_cli.training import run_training

    cfg = cfg_for(epochs=20, seed=3, batch_size=32, learning_rate=0.05,
                  sets=["training.early_stopping_patience=2"])
    result = run_training(cfg, OUT / "early")
    from mnist_cli.data import load_dataset

    data = load_dataset(cfg.data, cfg.training.seed)
    logits = np.asarray(result.model(data.validation.x.astype(np.float32) / 255.0), np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    kept_val_loss = float(-log_probs[np.arange(len(data.validation)), data.validation.y].mean())
    m = result.metrics
    return {"epochs_run": m["epochs_run"], "kept_epoch": m["kept_epoch"],
            "history_val_loss": result.history["val_loss"], "final": m["final"],
            "last_epoch": m.get("last_epoch"), "model_val_loss": kept_val_loss}


@scenario
def strategies() -> dict[str, Any]:
    """Data parallel over the two host devices == one device on the same global batch (up to
    summation order); TensorFlow-only strategies refused, naming what to use."""
    from mnist_cli.distribute import StrategyConfig, make_strategy
    from mnist_cli.errors import UsageError
    from mnist_cli.training import run_training

    refused = {}
    for name in ("mirrored", "multi-worker", "tpu"):
        try:
            make_strategy(StrategyConfig(name=name))
        except UsageError as exc:
            refused[name] = str(exc)
    dp, desc = make_strategy(StrategyConfig(name="data-parallel"))
    parallel = run_training(cfg_for(epochs=2, seed=1, batch_size=64), OUT / "dp",
                            strategy=dp, strategy_desc=desc)
    single = run_training(cfg_for(epochs=2, seed=1, batch_size=128), OUT / "single")
    kernel = parallel.model.trainable_variables[0].value
    diffs = [float(np.abs(a - b).max()) for a, b in
             zip(weights(parallel.model), weights(single.model), strict=True)]
    return {"refused": refused, "strategy": parallel.metrics["strategy"],
            "devices_holding_weights": len(kernel.sharding.device_set),
            "max_weight_difference": max(diffs),
            "loss": [parallel.history["loss"], single.history["loss"]],
            "test_accuracy": [parallel.metrics["test_accuracy"],
                              single.metrics["test_accuracy"]]}


@scenario
def engine_fit_refused() -> dict[str, Any]:
    from mnist_cli.errors import ConfigError
    from mnist_cli.training import run_training

    try:
        run_training(cfg_for(epochs=1, sets=["training.engine=fit"]), OUT / "fit")
    except ConfigError as exc:
        return {"message": str(exc)}
    return {"message": None}


RESULTS["tensorflow_imported_at_end"] = "tensorflow" in sys.modules
save(OUT)

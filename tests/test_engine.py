"""The fused engine (training.engine: fused, the default): same results as fit within noise,
bit-identical however an epoch is cut into graph calls, exact divergence step, bounded calls."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.optimizers import OPTIMIZERS
from mnist_cli.errors import ConfigError, RunFailed
from mnist_cli.training import fused
from tests.helpers import BN_DROPOUT_LAYERS, digits_yaml

BN_DROPOUT_YAML = digits_yaml("bn_dropout", BN_DROPOUT_LAYERS, epochs=2)


def cfg_for(engine: str = "fused", epochs: int = 3, seed: int = 5, **kw: object):
    sets = [f"training.engine={engine}", *kw.pop("sets", [])]
    return resolve_config(kw.pop("config", "mlp_relu"),
                          Overrides(data="digits", epochs=epochs, seed=seed, sets=sets, **kw))


def weights_of(model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.slow
def test_fused_is_default_and_matches_fit_within_noise(tmp_path: Path) -> None:
    from mnist_cli.training import run_training

    fused_run = run_training(cfg_for("fused", epochs=10), tmp_path / "fused").metrics
    fit_run = run_training(cfg_for("fit", epochs=10), tmp_path / "fit").metrics
    assert resolve_config("mlp_relu").training.engine == "fused"
    assert fused_run["engine"] == {"name": "fused", "why": "training.engine: fused",
                                   "images": "float32"}
    assert fit_run["engine"]["name"] == "fit"
    # 360 test digits: one seed's accuracy moves by ~1-2 points between shuffles
    assert fused_run["test_accuracy"] == pytest.approx(fit_run["test_accuracy"], abs=0.03)
    assert fused_run["test_accuracy"] > 0.9
    assert list(fused_run["final"]) == list(fit_run["final"])  # same history keys


@pytest.mark.slow
def test_results_do_not_depend_on_how_epochs_are_cut_into_calls(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole epochs per call vs one step per call vs uint8 images scaled in the graph: the
    same seed gives bit-identical weights and history."""
    from mnist_cli.data import pipeline
    from mnist_cli.training import run_training

    path = tmp_path / "bn.yaml"
    path.write_text(BN_DROPOUT_YAML)
    whole = run_training(resolve_config(str(path), Overrides(seed=2)), tmp_path / "a")
    monkeypatch.setattr(fused, "TARGET_CALL_S", 1e-9)  # every call: one step
    monkeypatch.setattr(fused, "FIRST_CALL_STEPS", 1)
    monkeypatch.setattr(pipeline, "FLOAT32_BUDGET_BYTES", 0)  # keep uint8
    calls: list[int] = []

    class Count(fused.import_keras().callbacks.Callback):
        __module__ = "mnist_cli.test_probe"  # trusted: does not force one step per call

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            calls.append(batch)

    single = run_training(resolve_config(str(path), Overrides(seed=2)), tmp_path / "b",
                          callbacks=[Count()])
    steps = -(-whole.metrics["dataset"]["sizes"]["train"] // 32)
    assert calls[:steps] == list(range(steps))  # one batch end per call, each step once
    assert single.metrics["engine"]["images"] == "uint8, scaled in the graph"
    assert single.history == whole.history
    for a, b in zip(weights_of(whole.model), weights_of(single.model), strict=True):
        np.testing.assert_array_equal(a, b)


def poisoned_dataset(seed: int, batch: int, step: int, value: float = np.inf,
                     order: np.ndarray | None = None):
    """Digits whose one training image, the one the (seed, epoch 0) order puts in `step`
    (1-based), holds one pixel `value` (inf: that step's gradients are non-finite). `order`:
    the epoch's example order, by default the fused engine's."""
    from mnist_cli.backend import import_tf
    from mnist_cli.config.schema import DataConfig
    from mnist_cli.data import load_dataset

    tf = import_tf()
    data = load_dataset(DataConfig(spec="digits"), seed)
    n = len(data.train)
    if order is None:
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n, dtype=tf.int32), seed=tf.constant([seed, 0], tf.int64)).numpy()
    x = data.train.x.astype(np.float32)
    x[order[(step - 1) * batch + 3]].flat[10] = value
    return replace(data, train=replace(data.train, x=x))


@pytest.mark.slow
def test_divergence_is_caught_in_graph_at_the_exact_step(tmp_path: Path) -> None:
    from mnist_cli.training import run_training
    from mnist_cli.training.guards import Diverged

    seed, batch, step = 4, 16, 23  # step 23 lies inside a multi-step call
    data = poisoned_dataset(seed, batch, step)
    cfg = cfg_for("fused", epochs=2, seed=seed, batch_size=batch)
    with pytest.raises(RunFailed) as info:
        run_training(cfg, tmp_path / "run", dataset=data)
    assert isinstance(info.value, Diverged)
    # How an inf pixel reaches the loss depends on the CPU's kernels (nan on AVX2, finite on
    # some AVX-512 builds), but its first-layer weight gradient is non-finite on every CPU:
    # the step is exact either way; only which of the two is named may differ.
    assert info.value.what in ("loss", "gradients")
    assert f"at epoch 1, step {step}" in str(info.value)
    failure = json.loads((tmp_path / "run" / "metrics.json").read_text())["failure"]
    assert (failure["epoch"], failure["step"]) == (1, step)
    # the NaN step's update was not applied: Adam would have made every weight NaN
    from mnist_cli.modeling.build import build_model, compile_model

    model = build_model(cfg.model, data.description.image_shape, 10)
    compile_model(model, cfg.model, cfg.training)
    with pytest.raises(Diverged):
        fused.fit_fused(cfg, data, model, batch, [])
    assert all(np.isfinite(w).all() for w in weights_of(model))
    assert int(model.optimizer.iterations.numpy()) == step - 1


def sqrt_of_shift():
    """A layer sqrt(x + b) with a trainable shift b held at 1: finite for every input >= -1, but at
    x = -1 the gradient of b is 0.5 / sqrt(0) = inf (IEEE, exact on every CPU), so an image
    holding pixel -255 (scaled to exactly -1) gives a finite loss with non-finite gradients."""
    from mnist_cli.backend import import_keras

    keras = import_keras()

    class SqrtOfShift(keras.layers.Layer):
        def build(self, input_shape):
            # kept at exactly 1 after every update, so x + b is exactly 0 at x = -1
            self.shift = self.add_weight(shape=(), initializer="ones", name="shift",
                                         constraint=keras.ops.ones_like)

        def call(self, x):
            return keras.ops.sqrt(x + self.shift)

    return SqrtOfShift()


def test_non_finite_gradients_with_a_finite_loss_stop_at_the_exact_step() -> None:
    """The in-graph check covers gradients, not only the loss: nothing of that step is
    applied and the step is named, whatever the CPU (no inf/NaN arithmetic is rounded)."""
    from mnist_cli.backend import import_keras
    from mnist_cli.training.guards import Diverged

    keras = import_keras()
    seed, batch, step = 4, 16, 7
    data = poisoned_dataset(seed, batch, step, value=-255.0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(data.description.image_shape),
                              keras.layers.Flatten(), sqrt_of_shift(),
                              keras.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    cfg = cfg_for("fused", epochs=1, seed=seed, batch_size=batch)
    with pytest.raises(Diverged) as info:
        fused.fit_fused(cfg, data, model, batch, [])
    assert info.value.what == "gradients"
    assert np.isfinite(info.value.value)  # the loss itself was finite
    assert f"gradients became non-finite (loss {info.value.value:.4g}) at epoch 1, step " \
        f"{step}" in str(info.value)
    assert all(np.isfinite(w).all() for w in weights_of(model))
    assert int(model.optimizer.iterations.numpy()) == step - 1


def sqrt_model(image_shape: tuple[int, ...]):
    """Flatten -> sqrt(x + 1) -> Dense(10) logits, compiled with Adam."""
    from mnist_cli.backend import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(image_shape), keras.layers.Flatten(),
                              sqrt_of_shift(), keras.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


@pytest.mark.slow
def test_custom_loop_applies_no_non_finite_step() -> None:
    """The multi-worker loop checks loss and gradients before its update too: here under the
    default strategy (the same graph: flags reduced over replicas, then the update or not)."""
    from mnist_cli.backend import import_tf
    from mnist_cli.training.custom_loop import epoch_order, fit_custom
    from mnist_cli.training.guards import Diverged

    seed, batch, step = 4, 16, 7
    probe = poisoned_dataset(seed, batch, step, value=-255.0)
    data = poisoned_dataset(seed, batch, step, value=-255.0,
                            order=epoch_order(len(probe.train), seed, 0))
    model = sqrt_model(data.description.image_shape)
    cfg = cfg_for("fused", epochs=1, seed=seed, batch_size=batch)
    with pytest.raises(Diverged) as info:
        fit_custom(cfg, data, model, import_tf().distribute.get_strategy(), batch, [])
    assert info.value.what == "gradients" and np.isfinite(info.value.value)
    assert f"at epoch 1, step {step}" in str(info.value)
    assert all(np.isfinite(w).all() for w in weights_of(model))
    assert int(model.optimizer.iterations.numpy()) == step - 1


@pytest.mark.slow
def test_batchnorm_and_dropout_see_the_right_training_flag(tmp_path: Path) -> None:
    """Training moves BatchNormalization's moving statistics and applies Dropout; validation
    and prediction use inference mode (deterministic, equal to Keras's own evaluate)."""
    from mnist_cli.training import run_training

    path = tmp_path / "bn.yaml"
    path.write_text(BN_DROPOUT_YAML)
    result = run_training(resolve_config(str(path), Overrides(seed=1)), tmp_path / "run")
    model = result.model
    bn = next(layer for layer in model.layers if "batch_normalization" in layer.name)
    assert np.abs(np.asarray(bn.moving_mean)).max() > 0  # starts at 0
    from mnist_cli.config.schema import DataConfig
    from mnist_cli.data import load_dataset

    data = load_dataset(DataConfig(spec="digits"), 1)
    x_val = data.validation.x.astype(np.float32) / 255.0
    val_loss, _ = model.evaluate(x_val, data.validation.y, verbose=0, return_dict=False)
    assert result.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-4)
    outputs = fused.predict_fused(model, data.test, 32)
    np.testing.assert_allclose(outputs, model.predict(data.test.x / 255.0, verbose=0),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(outputs, fused.predict_fused(model, data.test, 32))
    from mnist_cli.training.extra_state import rng_variables

    (dropout_state,) = [np.asarray(v) for v in rng_variables(model)]
    steps = 2 * -(-len(data.train) // 32)
    assert dropout_state.ravel()[-1] == steps  # one mask drawn per training step, none else


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.slow
def test_every_optimizer_trains_as_under_fit(tmp_path: Path, optimizer: str) -> None:
    from mnist_cli.training import run_training

    rate = 0.1 if optimizer in ("sgd", "adagrad") else 0.01  # plain steps need larger ones
    runs = {engine: run_training(cfg_for(engine, optimizer=optimizer, learning_rate=rate),
                                 tmp_path / engine) for engine in ("fused", "fit")}
    assert runs["fused"].metrics["engine"]["name"] == "fused"
    losses = {engine: run.history["loss"] for engine, run in runs.items()}
    assert losses["fused"][-1] < losses["fused"][0]  # it learns
    # as fast as under fit (shuffle orders differ, so not equal)
    assert losses["fused"][-1] == pytest.approx(losses["fit"][-1], rel=0.3)


def test_engine_key_is_validated() -> None:
    with pytest.raises(ConfigError, match="training.engine"):
        resolve_config("mlp_relu", Overrides(sets=["training.engine=turbo"]))


def test_other_strategies_fall_back_to_fit() -> None:
    from mnist_cli.backend import import_tf

    tf = import_tf()
    cfg = cfg_for("fused")
    assert fused.choose_engine(cfg, tf.distribute.get_strategy())[0] == "fused"
    assert fused.choose_engine(cfg, tf.distribute.OneDeviceStrategy("/cpu:0"))[0] == "fused"
    engine, why = fused.choose_engine(cfg, tf.distribute.MirroredStrategy(["/cpu:0"]))
    assert engine == "fit" and "MirroredStrategy" in why


@pytest.mark.slow
def test_signal_lands_at_a_call_boundary(tmp_path: Path) -> None:
    """SIGINT mid-epoch stops at the next call boundary: well within a second here, while
    an epoch of this run takes several calls (the CNN on batch 8)."""
    from mnist_cli.signals import Interrupted, handle_interrupts
    from mnist_cli.training import run_training

    ends: list[float] = []
    sent: list[float] = []

    def fire() -> None:
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    class Clock(fused.import_keras().callbacks.Callback):
        __module__ = "mnist_cli.test_probe"

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            ends.append(time.monotonic())
            if len(ends) == 6:
                threading.Timer(0.05, fire).start()

    cfg = cfg_for("fused", epochs=50, config="cnn", batch_size=8)
    with handle_interrupts(), pytest.raises(Interrupted):
        run_training(cfg, tmp_path / "run", callbacks=[Clock()])
    stopped = time.monotonic()
    # the guard (before Clock in the list) stopped it at the first call end after the signal
    assert len(ends) >= 6 and ends[-1] < sent[0]
    assert stopped - sent[0] < 1.5  # one call (<= ~0.25 s) plus the backup write
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "interrupted"


@pytest.mark.slow
def test_one_device_strategy_trains_the_same_weights(tmp_path: Path) -> None:
    from mnist_cli.backend import import_tf
    from mnist_cli.training import run_training

    one = import_tf().distribute.OneDeviceStrategy("/cpu:0")
    runs = [run_training(cfg_for("fused", epochs=2), tmp_path / name, strategy=strategy)
            for name, strategy in (("default", None), ("one", one))]
    assert runs[1].metrics["engine"]["name"] == "fused"
    assert runs[0].history == runs[1].history
    for a, b in zip(weights_of(runs[0].model), weights_of(runs[1].model), strict=True):
        np.testing.assert_array_equal(a, b)

"""The engine (one per backend, every strategy): learns like Keras fit, bit-identical however
an epoch is cut into graph calls, exact divergence step, bounded calls."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.optimizers import OPTIMIZERS
from mnist_cli.errors import ConfigError, RunFailed
from mnist_cli.training import fused
from tests.helpers import BN_DROPOUT_LAYERS, digits_yaml, poisoned_digits

BN_DROPOUT_YAML = digits_yaml("bn_dropout", BN_DROPOUT_LAYERS, epochs=2)


def cfg_for(epochs: int = 3, seed: int = 5, **kw: object):
    return resolve_config(kw.pop("config", "mlp_relu"),
                          Overrides(data="digits", epochs=epochs, seed=seed, **kw))


def engine_fit(cfg, data, model, batch: int, callbacks: list | None = None):
    """The engine chosen for the model's strategy, trained directly."""
    engine = fused.Engine.for_strategy(model.distribute_strategy, model)
    return engine.fit(cfg, data, model, batch, callbacks or [])


def keras_fit(cfg, data) -> tuple[list[float], float]:
    """Keras's own `fit` on the same config, data and batch: the reference learning curve
    and test accuracy."""
    from mnist_cli.modeling.build import build_model, compile_model

    model = build_model(cfg.model, data.description.image_shape, 10)
    compile_model(model, cfg.model, cfg.training)
    hist = model.fit(data.train.x.astype(np.float32) / 255.0, data.train.y,
                     batch_size=cfg.training.batch_size, epochs=cfg.training.epochs, verbose=0)
    out = model.predict(data.test.x.astype(np.float32) / 255.0, verbose=0)
    return [float(v) for v in hist.history["loss"]], float((out.argmax(1) == data.test.y).mean())


def weights_of(model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.slow
def test_engine_learns_as_keras_fit_and_records_itself(tmp_path: Path) -> None:
    from mnist_cli.config.schema import DataConfig
    from mnist_cli.data import load_dataset
    from mnist_cli.training import run_training

    cfg = cfg_for(epochs=10)
    run = run_training(cfg, tmp_path / "run")
    assert run.metrics["engine"] == {"name": "fused", "why": "tf.function steps, 1 replica(s)",
                                     "images": "float32", "dropped_per_epoch": 0}
    assert run.metrics["test_accuracy"] > 0.9
    _, accuracy = keras_fit(cfg, load_dataset(DataConfig(spec="digits"), 5))
    # shuffle orders differ, so not equal: within the seed noise of Keras's own loop (360
    # test digits: one seed's accuracy moves by ~1-2 points between shuffles)
    assert run.metrics["test_accuracy"] == pytest.approx(accuracy, abs=0.03)


def test_removed_fit_engine_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match="training.engine: fit was removed"):  # a file's key
        resolve_config("mlp_relu", Overrides(sets=["training.engine=fit"]))


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


@pytest.mark.slow
def test_xla_steps_train_as_the_graph_and_do_not_depend_on_the_cut(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long run of an XLA-eligible model (a BatchNorm MLP, whose last partial batch is its
    own program) is XLA-compiled: whole epochs per call and one step per call give
    bit-identical weights and history, and it learns as the plain graph does (XLA fuses
    and rounds differently, so close, not equal)."""
    from mnist_cli.training import run_training

    path = tmp_path / "bn_mlp.yaml"
    layers = ("Flatten: {}", "Dense: {units: 32}", "BatchNormalization: {}",
              "Activation: {activation: relu}", "Dense: {units: 10}")
    path.write_text(digits_yaml("bn_mlp", layers, epochs=3))

    def run(name: str):
        return run_training(resolve_config(str(path), Overrides(seed=3)), tmp_path / name)

    monkeypatch.setattr(fused, "XLA_MIN_STEPS", 10**9)
    graph = run("graph")
    monkeypatch.setattr(fused, "XLA_MIN_STEPS", 0)
    whole = run("whole")
    assert whole.metrics["engine"]["why"].startswith("XLA-compiled")
    assert whole.metrics["dataset"]["sizes"]["train"] % 32  # a partial last batch
    monkeypatch.setattr(fused, "TARGET_CALL_S", 1e-9)  # every call: one step
    monkeypatch.setattr(fused, "FIRST_CALL_STEPS", 1)
    single = run("single")
    assert single.history == whole.history
    for a, b in zip(weights_of(whole.model), weights_of(single.model), strict=True):
        np.testing.assert_array_equal(a, b)
    # rounding differences grow with the steps: epoch 1 within 1e-4, later ones within 1e-2
    assert whole.history["loss"][0] == pytest.approx(graph.history["loss"][0], rel=1e-4)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(whole.history[key], graph.history[key], atol=1e-2)


def poisoned_dataset(seed: int, batch: int, step: int, value: float = np.inf):
    """Digits whose image at row 3 of `step` (1-based, epoch 1) holds one pixel `value`."""
    return poisoned_digits(seed, (step - 1) * batch + 3, value)


@pytest.mark.parametrize("xla", [False, True])
@pytest.mark.slow
def test_divergence_is_caught_in_graph_at_the_exact_step(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xla: bool) -> None:
    from mnist_cli.training import run_training
    from mnist_cli.training.guards import Diverged

    monkeypatch.setattr(fused, "XLA_MIN_STEPS", 0 if xla else 10**9)

    seed, batch, step = 4, 16, 23  # step 23 lies inside a multi-step call
    data = poisoned_dataset(seed, batch, step)
    cfg = cfg_for(epochs=2, seed=seed, batch_size=batch)
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
        engine_fit(cfg, data, model, batch)
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
    cfg = cfg_for(epochs=1, seed=seed, batch_size=batch)
    with pytest.raises(Diverged) as info:
        engine_fit(cfg, data, model, batch)
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
@pytest.mark.extended
def test_every_optimizer_learns_as_under_keras_fit(tmp_path: Path, optimizer: str) -> None:
    from mnist_cli.config.schema import DataConfig
    from mnist_cli.data import load_dataset
    from mnist_cli.training import run_training

    rate = 0.1 if optimizer in ("sgd", "adagrad") else 0.01  # plain steps need larger ones
    cfg = cfg_for(optimizer=optimizer, learning_rate=rate)
    losses = run_training(cfg, tmp_path / "run").history["loss"]
    reference, _ = keras_fit(cfg, load_dataset(DataConfig(spec="digits"), 5))
    assert losses[-1] < losses[0]  # it learns
    assert losses[-1] == pytest.approx(reference[-1], rel=0.3)  # as fast as under fit


def test_engine_key_is_validated() -> None:
    with pytest.raises(ConfigError, match="training.engine"):
        resolve_config("mlp_relu", Overrides(sets=["training.engine=turbo"]))


def test_every_strategy_gets_the_one_engine(tmp_path: Path) -> None:
    """Chosen once per strategy and model: the same graphs for default, one-device and
    mirrored; XLA only for one replica on the CPU with an MLP's layers in float32
    (`xla_wins`); the call cut fixed only where processes must agree on it (multi-worker)."""
    from mnist_cli.backend import import_tf
    from mnist_cli.modeling.build import build_model

    tf = import_tf()

    def model(config: str, precision: str = "float32"):
        return build_model(resolve_config(config).model, (8, 8, 1), 10, precision=precision)

    strategies = [tf.distribute.get_strategy(), tf.distribute.OneDeviceStrategy("/cpu:0"),
                  tf.distribute.MirroredStrategy(["/cpu:0"])]
    long = fused.XLA_MIN_STEPS
    engines = [fused.Engine.for_strategy(s, model("mlp_relu"), long) for s in strategies]
    assert {e.graphs.__name__ for e in engines} == {"mnist_cli.training.fused_graph"}
    assert [e.fixed_call_steps for e in engines] == [None, None, None]
    assert [e.xla for e in engines] == [True, True, False]
    assert not fused.Engine.for_strategy(strategies[0], model("mlp_relu"), long - 1).xla
    dropout = tmp_path / "dropout.yaml"
    dropout.write_text(digits_yaml("mlp_dropout", ("Flatten: {}", "Dropout: {rate: 0.5}",
                                                   "Dense: {units: 10}"), epochs=1))
    for other in (model("cnn"), model(str(dropout)),
                  model("mlp_relu", precision="mixed_float16")):
        assert not fused.Engine.for_strategy(strategies[0], other, long).xla


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
        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            ends.append(time.monotonic())
            if len(ends) == 6:
                threading.Timer(0.05, fire).start()

    cfg = cfg_for(epochs=50, config="cnn", batch_size=8)
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
    runs = [run_training(cfg_for(epochs=2), tmp_path / name, strategy=strategy)
            for name, strategy in (("default", None), ("one", one))]
    assert runs[1].metrics["engine"]["name"] == "fused"
    assert runs[0].history == runs[1].history
    for a, b in zip(weights_of(runs[0].model), weights_of(runs[1].model), strict=True):
        np.testing.assert_array_equal(a, b)

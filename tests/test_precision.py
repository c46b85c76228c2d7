"""Mixed precision: 16-bit compute with a float32 output layer, as accurate as float32 on
digits, and the global Keras dtype policy left as it was."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.errors import ConfigError
from mnist_cli.modeling.build import build_model
from mnist_cli.modeling.precision import precision_notes
from mnist_cli.training import run_training
from tests.helpers import make_digits_dataset

SEEDS = (1, 2, 3)
MIXED = ("mixed_float16", "mixed_bfloat16")


def train(tmp: Path, precision: str, seed: int) -> dict:
    cfg = resolve_config("mlp_relu", Overrides(epochs=8, seed=seed,
                                               sets=[f"training.precision={precision}",
                                                     "training.tensorboard=false"]))
    return run_training(cfg, tmp / f"{precision}-{seed}", dataset=make_digits_dataset()).metrics


@pytest.fixture(scope="module")
def accuracy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[float]]:
    """Test accuracy per precision over the same 3 seeds (printed with -s)."""
    tmp = tmp_path_factory.mktemp("precision")
    table = {p: [train(tmp, p, s)["test_accuracy"] for s in SEEDS]
             for p in ("float32", *MIXED)}
    for p, accs in table.items():
        print(f"{p:15s} " + " ".join(f"{a:.4f}" for a in accs) + f"  mean {np.mean(accs):.4f}")
    return table


@pytest.mark.parametrize("precision", MIXED)
@pytest.mark.slow
@pytest.mark.extended
def test_mixed_accuracy_within_two_points_of_float32(accuracy: dict[str, list[float]],
                                                     precision: str) -> None:
    assert min(accuracy["float32"]) > 0.85  # the float32 baseline really learned
    assert abs(np.mean(accuracy[precision]) - np.mean(accuracy["float32"])) <= 0.02
    assert max(abs(a - b) for a, b in zip(accuracy[precision], accuracy["float32"],
                                          strict=True)) <= 0.04


@pytest.mark.slow
def test_metrics_record_precision_and_policy_is_restored(tmp_path: Path) -> None:
    import keras

    metrics = train(tmp_path, "mixed_float16", 1)
    assert metrics["precision"] == {"policy": "mixed_float16", "loss_scaling": True,
                                    "output_dtype": "float32"}
    saved = json.loads((tmp_path / "mixed_float16-1" / "metrics.json").read_text())
    assert saved["precision"]["policy"] == "mixed_float16"
    assert keras.config.dtype_policy().name == "float32"
    after = build_model(resolve_config("mlp_relu").model, (8, 8, 1), 10)
    assert {layer.dtype_policy.name for layer in after.layers} == {"float32"}


def test_hidden_layers_compute_in_16_bits_output_in_float32() -> None:
    import keras

    cfg = resolve_config("mlp_relu")
    model = build_model(cfg.model, (8, 8, 1), 10, precision="mixed_float16")
    hidden, last = model.layers[1:-1], model.layers[-1]
    assert {layer.compute_dtype for layer in hidden} == {"float16"}
    assert {w.dtype for layer in hidden for w in layer.weights} == {"float32"}  # master weights
    assert last.compute_dtype == "float32"
    assert str(model(np.zeros((2, 8, 8, 1), np.float32)).dtype) in ("float32", "<dtype: 'float32'>")
    assert keras.config.dtype_policy().name == "float32"


def test_policy_restored_when_the_build_fails() -> None:
    import keras

    cfg = resolve_config("mlp_relu")
    with pytest.raises(ConfigError, match="units: 3"):
        build_model(cfg.model, (8, 8, 1), 3, precision="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"


def test_unknown_precision_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="training.precision"):
        resolve_config("mlp_relu", Overrides(sets=["training.precision=float64"]))


def test_cpu_note() -> None:
    assert precision_notes("float32") == []
    (note,) = precision_notes("mixed_bfloat16")  # this machine has no GPU/TPU
    assert "on CPU" in note and "slower" in note


@pytest.mark.slow
def test_engine_scales_the_loss() -> None:
    """The engine must scale the loss for the LossScaleOptimizer, which divides the
    gradients by the scale: with SGD, unscaled gradients (2^15 too small) leave the loss
    flat."""
    import tensorflow as tf

    from mnist_cli.modeling.build import compile_model
    from mnist_cli.training.fused import Engine

    cfg = resolve_config("mlp_relu", Overrides(
        epochs=4, seed=1, optimizer="sgd", learning_rate=0.3,
        sets=["training.precision=mixed_float16"]))
    model = build_model(cfg.model, (8, 8, 1), 10, precision="mixed_float16")
    compile_model(model, cfg.model, cfg.training)
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    engine = Engine.for_strategy(tf.distribute.get_strategy(), model)
    history, _ = engine.fit(cfg, make_digits_dataset(), model, 128, [])
    assert history["loss"][-1] < 0.8 * history["loss"][0]


@pytest.mark.parametrize("extra", [["--precision", "mixed_float16"], ["--no-tensorboard"]])
def test_resume_refuses_precision_and_tensorboard_flags(tmp_path: Path, extra: list[str]) -> None:
    from typer.testing import CliRunner

    from mnist_cli.cli.app import app

    (tmp_path / "config.yaml").write_text("name: x\n")
    result = CliRunner().invoke(app, ["train", "--resume", str(tmp_path), *extra])
    assert result.exit_code == 2
    assert f"drop {extra[0]}" in result.output

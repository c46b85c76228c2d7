"""gradcheck core: shipped configs pass, planted wrong gradients fail, kinks are flagged."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.gradients import (
    check_model,
    render,
    run_gradcheck,
    run_logistic_gradcheck,
    sample_entries,
)
from mnist_cli.gradients.logistic import hand_gradients

CONFIGS = sorted(Path(__file__).resolve().parents[1].joinpath("configs").glob("*.yaml"))


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """48 bundled 8x8 digits scaled to [0, 1], shaped like images (N, 8, 8, 1)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images[:48] / 16.0).reshape(-1, 8, 8, 1), d.target[:48].astype(np.int64)


@pytest.mark.slow
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_shipped_config_passes(path: Path, digits) -> None:
    x, y = digits
    cfg = resolve_config(str(path), Overrides())
    result = run_gradcheck(cfg.model, x, y, params=60, seed=1, name=path.stem)
    assert result.verdict == "pass", result.to_dict()
    assert result.overall_rel_diff < 1e-7
    assert {v.name.split("/")[-1] for v in result.variables} == {"kernel", "bias"}
    json.dumps(result.to_dict())  # serialisable for --json / gradcheck.json


def _wrong_dense(factor: float):
    """A Dense layer whose custom gradient for the kernel is multiplied by `factor`."""
    from mnist_cli.backend import import_keras, import_tf

    tf, keras = import_tf(), import_keras()

    @keras.saving.register_keras_serializable(package="test_gradcheck")
    class WrongDense(keras.layers.Dense):
        def __init__(self, *args, factor: float = factor, **kwargs):
            super().__init__(*args, **kwargs)
            self.factor = factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

        def call(self, inputs):
            factor = self.factor

            @tf.custom_gradient
            def matmul(a, w):
                def grad(upstream):
                    return tf.matmul(upstream, w, transpose_b=True), factor * tf.matmul(
                        a, upstream, transpose_a=True)
                return tf.matmul(a, w), grad
            return self.activation(matmul(inputs, self.kernel.value) + self.bias)

    return WrongDense


def _mlp(layer_cls, input_shape=(8, 8, 1)):
    from mnist_cli.backend import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(),
                             layer_cls(16, activation="tanh"), keras.layers.Dense(10)])


@pytest.mark.slow
def test_planted_wrong_gradient_fails(digits) -> None:
    x, y = digits
    result = check_model(_mlp(_wrong_dense(1.1)), x, y, from_logits=True, params=40,
                         epsilon=1e-5, seed=0)
    assert result.verdict == "fail" and result.exit_code == 1
    bad = [v for v in result.variables if v.verdict == "fail"]
    assert [v.name.split("/")[-1] for v in bad] == ["kernel"]
    assert 1e-2 < bad[0].rel_diff < 1e-1  # 0.1 / 2.1


@pytest.mark.slow
def test_honest_custom_gradient_passes(digits) -> None:
    x, y = digits
    result = check_model(_mlp(_wrong_dense(1.0)), x, y, from_logits=True, params=40,
                         epsilon=1e-5, seed=0)
    assert result.verdict == "pass"


@pytest.mark.slow
def test_kinks_are_flagged_with_large_epsilon(digits) -> None:
    x, y = digits
    cfg = resolve_config("mlp_relu", Overrides())
    result = run_gradcheck(cfg.model, x, y, params=80, epsilon=1e-2, seed=0)
    assert result.total_kinks > 0
    kinked = [v for v in result.variables if v.kinks]
    assert all(v.kink_rel_diff is not None for v in kinked)
    # the kink entries are off, the rest still agrees: they were excluded, not hidden
    assert max(v.kink_rel_diff for v in kinked) > 1e-5
    assert result.overall_rel_diff < 1e-5


def test_sampling_is_seeded() -> None:
    a, b = sample_entries(1000, 50, 7, 2), sample_entries(1000, 50, 7, 2)
    assert np.array_equal(a, b) and len(np.unique(a)) == 50
    assert not np.array_equal(a, sample_entries(1000, 50, 8, 2))
    assert np.array_equal(sample_entries(30, 50, 7, 2), np.arange(30))
    assert np.array_equal(sample_entries(30, None, 7, 2), np.arange(30))


@pytest.mark.parametrize("digit", [None, 3])
def test_logistic_hand_formulas_pass(digits, digit) -> None:
    x, y = digits
    result = run_logistic_gradcheck(x, y, digit=digit, params=None, seed=0)
    assert result.verdict == "pass", result.to_dict()
    refs = {(v.name, v.reference) for v in result.variables}
    assert refs == {(n, r) for n in "Wb" for r in ("finite-difference", "gradient-tape")}


def test_logistic_wrong_factor_fails(digits) -> None:
    x, y = digits

    def halved(W, b, X, Y):
        dW, db = hand_gradients(W, b, X, Y)
        return dW / 2, db  # dZ·Xᵀ/(2m)

    result = run_logistic_gradcheck(x, y, gradients=halved, seed=0)
    assert result.verdict == "fail" and result.exit_code == 1
    assert {v.name for v in result.variables if v.verdict == "fail"} == {"W"}


def test_render_and_json(digits) -> None:
    from rich.console import Console

    x, y = digits
    result = run_logistic_gradcheck(x, y, digit=0, params=20)
    console = Console(file=sys.stdout, width=200, record=True)
    console.print(render(result))
    text = console.export_text()
    assert "overall" in text and "pass" in text
    data = json.loads(json.dumps(result.to_dict()))
    assert data["verdict"] == "pass" and data["settings"]["epsilon"] == 1e-5

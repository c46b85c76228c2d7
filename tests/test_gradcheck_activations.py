"""Every activation Keras exports: its kinks are found by probing, and gradcheck never fails
a correct gradient because of them (5 seeds each, on a tiny model)."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_cli.backend import import_keras
from mnist_cli.gradients import check_model
from mnist_cli.gradients.activations import (
    NEEDS_ARGS,
    SUPPORT,
    activation_kinks,
    exported_activations,
)

EPSILON = 1e-5
KNOWN = {
    "relu": (0.0,), "leaky_relu": (0.0,), "relu6": (0.0, 6.0), "selu": (0.0,),
    "hard_sigmoid": (-3.0, 3.0), "hard_silu": (-3.0, 3.0), "hard_swish": (-3.0, 3.0),
    "hard_tanh": (-1.0, 1.0), "soft_shrink": (-0.5, 0.5), "hard_shrink": (-0.5, 0.5),
    "sparse_sigmoid": (-1.0, 1.0), "sparsemax": SUPPORT, "threshold": NEEDS_ARGS,
}
"""The test's oracle, written from the Keras 3.15 formulas; the code derives its own."""
USABLE = [n for n in exported_activations() if activation_kinks(n) != NEEDS_ARGS]


def test_list_is_everything_keras_exports() -> None:
    keras = import_keras()
    exported = {n for n in dir(keras.activations) if not n.startswith("_")
                and callable(getattr(keras.activations, n))}
    assert set(exported_activations()) == exported - {"get", "serialize", "deserialize"}
    assert {"selu", "soft_shrink", "hard_shrink", "sparse_sigmoid", "threshold"} <= exported


@pytest.mark.parametrize("name", exported_activations())
def test_kinks_derived_match_the_formulas(name: str) -> None:
    """Kinked activations get exactly their kink points; every other one is smooth (C1 seams
    such as softsign's or sparse_plus's are harmless and not kinks)."""
    assert activation_kinks(name) == KNOWN.get(name), name


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).reshape(-1, 8, 8, 1), d.target.astype(np.int64)


def _tiny(name: str, seed: int):
    """One Dense layer whose activation feeds the loss as logits: two variables keep five
    seeds of ~30 activations fast. glu halves the last axis, so it gets 20 units. sparsemax
    gets a Dense after it: as logits, its usual one-hot output has an exactly zero gradient
    (honestly 'inconclusive', but not what this test is about)."""
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    units = 20 if name == "glu" else 10
    layers = [keras.Input((8, 8, 1)), keras.layers.Flatten(),
              keras.layers.Dense(units, activation=name)]
    if activation_kinks(name) == SUPPORT:
        layers.append(keras.layers.Dense(10))
    return keras.Sequential(layers)


def _plant_straddles(model, x: np.ndarray, points: tuple[float, ...]) -> None:
    """Move the hidden bias so sample 0's pre-activation of unit j sits 0.3*eps past kink j:
    the finite difference of bias entry j then certainly straddles it."""
    dense = model.layers[1]
    kernel, bias = dense.get_weights()
    z0 = x[0].reshape(-1).astype(np.float64) @ kernel + bias
    for j, p in enumerate(points[: len(bias)]):
        bias[j] += p + 0.3 * EPSILON - z0[j]
    dense.set_weights([kernel, bias])


@pytest.mark.parametrize("name", USABLE)
@pytest.mark.slow
@pytest.mark.extended
def test_every_activation_five_seeds_no_false_failure(digits, name: str) -> None:
    kinks = activation_kinks(name)
    points = kinks if isinstance(kinks, tuple) else ()
    for seed in range(5):
        rows = np.random.default_rng(seed).choice(len(digits[0]), 12, replace=False)
        x, y = digits[0][rows], digits[1][rows]
        model = _tiny(name, seed)
        if points:
            _plant_straddles(model, x, points)
        result = check_model(model, x, y, from_logits=True, params=16, epsilon=EPSILON,
                             seed=seed, directions=4)
        assert result.verdict == "pass", (name, seed, result.to_dict())
        if name in ("softmax", "sigmoid"):  # as logits: Keras training would swap them
            assert any("Keras training" in note for note in result.notes)
        if points:  # detected and left out, not hidden in the verdict
            bias = result.variables[1]
            assert bias.kinks >= min(len(points), bias.size), (name, seed)
            assert bias.judged or bias.checked == bias.kinks

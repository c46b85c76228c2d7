"""The directional check: planted gradient bugs fail every time, 'inconclusive' is never 'pass',
and gradcheck stays float64 under any global dtype policy."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_cli.backend import import_keras, import_tf
from mnist_cli.config import Overrides, resolve_config
from mnist_cli.gradients import check_model, render, run_gradcheck

SEEDS = [0, 1, 2]


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """24 bundled 8x8 digits scaled to [0, 1], shaped like images (N, 8, 8, 1)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images[:24] / 16.0).reshape(-1, 8, 8, 1), d.target[:24].astype(np.int64)


def _off_by_one_entry():
    """A Dense layer whose custom kernel gradient is off by `offset` in one entry only."""
    tf, keras = import_tf(), import_keras()

    @keras.saving.register_keras_serializable(package="test_gradcheck_directional")
    class OffByOneEntry(keras.layers.Dense):
        def __init__(self, *args, entry=(0, 0), offset=1e-3, **kwargs):
            super().__init__(*args, **kwargs)
            self.entry, self.offset = tuple(entry), offset

        def get_config(self):
            return {**super().get_config(), "entry": list(self.entry), "offset": self.offset}

        def call(self, inputs):
            mask = np.zeros(tuple(self.kernel.shape))
            mask[self.entry] = self.offset
            error = tf.constant(mask, self.kernel.dtype)

            @tf.custom_gradient
            def matmul(a, w):
                def grad(up):
                    return (tf.matmul(up, w, transpose_b=True),
                            tf.matmul(a, up, transpose_a=True) + error)
                return tf.matmul(a, w), grad
            return self.activation(matmul(inputs, self.kernel.value) + self.bias)

    return OffByOneEntry


def _mlp(seed: int, first=None):
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    first = first or keras.layers.Dense(16, activation="relu")
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), first,
                             keras.layers.Dense(10)])


def _check(model, x, y, seed, **kwargs):
    return check_model(model, x, y, from_logits=True, params=kwargs.pop("params", 10),
                       epsilon=1e-5, seed=seed, **kwargs)


def _row(result, index: int):
    """Directional row: 0 is the whole model, 1 + i the i-th variable (1: first kernel)."""
    return result.directional[index]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.slow
def test_one_wrong_entry_in_custom_layer_fails(digits, seed) -> None:
    """10 of 1024 kernel entries are sampled, so the sample usually misses the wrong one;
    the directions involve every entry and catch it."""
    x, y = digits
    entry = tuple(int(i) for i in np.random.default_rng(seed).integers((64, 16)))
    layer = _off_by_one_entry()(16, activation="relu", entry=entry, offset=1e-3)
    result = _check(_mlp(seed, layer), x, y, seed)
    assert result.verdict == "fail" and result.exit_code == 1
    assert result.directional_verdict == "fail"
    assert _row(result, 1).verdict == "fail"  # the first Dense's kernel
    assert _row(result, 0).verdict == "fail"


@pytest.mark.slow
def test_honest_custom_layer_passes(digits) -> None:
    x, y = digits
    layer = _off_by_one_entry()(16, activation="relu", offset=0.0)
    result = _check(_mlp(0, layer), x, y, 0)
    assert result.verdict == "pass", result.to_dict()
    assert result.directional_verdict == "pass"


def _flip_one(seed: int):
    """Hook: flip the sign of one first-kernel entry whose gradient is not negligible
    (>= 1e-3 of the kernel gradient's norm; flipping an exact zero changes nothing)."""
    def hook(grads: list[np.ndarray]) -> list[np.ndarray]:
        g = grads[0].ravel()
        candidates = np.flatnonzero(np.abs(g) >= 1e-3 * np.linalg.norm(g))
        k = np.random.default_rng(seed).choice(candidates)
        g[k] = -g[k]
        grads[0] = g.reshape(grads[0].shape)
        return grads
    return hook


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.slow
def test_one_flipped_sign_fails(digits, seed) -> None:
    x, y = digits
    result = _check(_mlp(seed), x, y, seed, gradient_hook=_flip_one(seed))
    assert result.verdict == "fail" and result.exit_code == 1
    assert result.directional_verdict == "fail"
    assert _row(result, 1).verdict == "fail"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.slow
def test_gradient_scaled_by_1_0001_fails(digits, seed) -> None:
    x, y = digits
    result = _check(_mlp(seed), x, y, seed,
                    gradient_hook=lambda grads: [g * 1.0001 for g in grads])
    assert result.verdict == "fail" and result.exit_code == 1
    assert result.directional_verdict == "fail"
    assert all(d.verdict == "fail" for d in result.directional if d.judged)


@pytest.mark.slow
def test_unhooked_mlp_passes_every_direction(digits) -> None:
    x, y = digits
    result = _check(_mlp(0), x, y, 0, gradient_hook=lambda grads: grads)
    assert result.verdict == "pass"
    names = [d.name for d in result.directional]
    assert names[0] == "all variables" and len(names) == 1 + len(result.variables)
    assert result.directional[0].size == sum(v.size for v in result.variables)
    assert all(d.directions == 16 and d.judged for d in result.directional)


@pytest.mark.slow
def test_nothing_judged_is_inconclusive(digits) -> None:
    """A softmax saturated on the right class: the loss is exactly 0.0 in float64, every
    gradient is ~1e-26, far under the rounding floor: nothing can be judged."""
    x, y = digits
    y = np.full_like(y, 3)
    model = _mlp(0)
    kernel, bias = model.layers[-1].get_weights()
    bias[:] = 0.0
    bias[3] = 80.0
    model.layers[-1].set_weights([np.zeros_like(kernel), bias])
    result = _check(model, x, y, 0)
    assert result.verdict == "inconclusive" and result.exit_code == 1
    assert "nothing could be judged" in result.reason
    assert not result.overall_judged
    assert not any(d.judged for d in result.directional)
    assert result.to_dict()["verdict"] == "inconclusive"


@pytest.mark.slow
def test_directions_zero_is_said(digits) -> None:
    x, y = digits
    result = _check(_mlp(0), x, y, 0, directions=0)
    assert result.directional == [] and result.directional_verdict is None
    assert any("directional check skipped" in n for n in result.notes)


@pytest.mark.slow
def test_float64_under_mixed_precision_policy(digits) -> None:
    """Another part of the tool may set a mixed-precision global policy; gradcheck ignores it."""
    from rich.console import Console

    keras = import_keras()
    x, y = digits
    cfg = resolve_config("mlp_relu", Overrides())
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        result = run_gradcheck(cfg.model, x, y, params=10, directions=4, seed=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert result.verdict == "pass", result.to_dict()
    assert result.settings["dtype"] == "float64"
    console = Console(width=120, record=True)
    console.print(render(result))
    text = console.export_text()
    assert "float64" in text and "directional derivatives" in text


def test_require_float64_refuses_float32() -> None:
    from mnist_cli.errors import RunFailed
    from mnist_cli.gradients.clone import require_float64

    keras = import_keras()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(RunFailed, match="float64"):
        require_float64(model)

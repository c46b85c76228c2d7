"""Where Keras's activations are not differentiable, found by probing them, not from a list.

Every callable exported by `keras.activations` (except get/serialize/deserialize) is probed
at its default settings in float64:

- elementwise ones on a fine grid over [-GRID_HALF, GRID_HALF]: an interval whose slope (or
  value) jumps far more than its neighbours' is a kink, located by bisection to ~1e-15;
- vector ones (softmax, sparsemax, glu, ...) along random lines: if the derivative jumps,
  the activation is marked SUPPORT (its kinks are where an output enters or leaves zero,
  as for sparsemax);
- ones that cannot be called with x alone (`threshold` needs its threshold) are NEEDS_ARGS.

Only first-derivative (slope) and value jumps count: C1 functions such as softsign or
sparse_plus have a finite-difference error of O(eps) across their seams, which is harmless.
The result is cached per name; probing one activation takes a few milliseconds.
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

import numpy as np

from mnist_cli.backend import import_keras
from mnist_cli.gradients.autodiff import float64_mode, grad_of_sum, to_tensor

SUPPORT = "support"
"""Kinks of a vector activation: where the pattern of zero outputs changes."""
NEEDS_ARGS = "needs-args"
"""Not callable with x alone, so not usable as a layer activation at default settings."""
NOT_ACTIVATIONS = {"get", "serialize", "deserialize"}
GRID_HALF, GRID_STEP = 16.0, 2.0**-10
JUMP_RATIO = 20.0
"""An interval is a kink when its jump exceeds this many times both neighbours'."""

Kinks = tuple[float, ...] | str | None
"""Kink points of an elementwise activation, SUPPORT, NEEDS_ARGS, or None when smooth."""


def exported_activations() -> list[str]:
    """Names of every activation function `keras.activations` exports."""
    keras = import_keras()
    return sorted(n for n in dir(keras.activations) if not n.startswith("_")
                  and n not in NOT_ACTIVATIONS and callable(getattr(keras.activations, n)))


def _values_and_slopes(fn: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f'(x) (autodiff, used only to locate kinks) for an elementwise f."""
    y, slope = grad_of_sum(fn, to_tensor(np.asarray(x, np.float64)))
    return np.asarray(y), np.asarray(slope)


def _jumps(f: np.ndarray, d: np.ndarray, h: float | np.ndarray) -> np.ndarray:
    """Per interval: the slope jump plus the value jump (scaled by the interval width)."""
    value = np.abs(f[1:] - f[:-1] - h * (d[1:] + d[:-1]) / 2) / h
    return np.abs(d[1:] - d[:-1]) + value


def _kink_intervals(jumps: np.ndarray) -> np.ndarray:
    """Indices of intervals whose jump towers over both neighbours' (and is not tiny)."""
    padded = np.concatenate([[0.0], jumps, [0.0]])
    neighbours = np.maximum(padded[:-2], padded[2:])
    return np.flatnonzero((jumps > 1e-6) & (jumps > JUMP_RATIO * neighbours))


def _bisect(fn: Any, lo: np.ndarray, hi: np.ndarray, steps: int = 44) -> np.ndarray:
    """Shrink each [lo, hi] around its kink: keep the half whose end disagrees with the middle."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        f, d = _values_and_slopes(fn, np.stack([lo, mid, hi]))
        width = np.maximum(hi - lo, 1e-300)
        left = np.abs(d[1] - d[0]) + np.abs(f[1] - f[0] - d[0] * (mid - lo)) / width
        right = np.abs(d[2] - d[1]) + np.abs(f[2] - f[1] - d[2] * (hi - mid)) / width
        go_right = left <= right
        lo, hi = np.where(go_right, mid, lo), np.where(go_right, hi, mid)
    return (lo + hi) / 2


def elementwise_kinks(fn: Any) -> tuple[float, ...]:
    """Kink points of an elementwise activation in [-GRID_HALF, GRID_HALF] (grid offset by an
    irrational fraction of a step so no kink sits on a grid point), rounded to 1e-9."""
    x = np.arange(-GRID_HALF, GRID_HALF, GRID_STEP) + GRID_STEP / np.pi
    f, d = _values_and_slopes(fn, x)
    where = _kink_intervals(_jumps(f, d, GRID_STEP))
    if not len(where):
        return ()
    points = _bisect(fn, x[where], x[where + 1])
    return tuple(sorted({float(np.round(p, 9)) + 0.0 for p in points}))


def _is_elementwise(fn: Any) -> bool:
    """Same values whether the inputs form one row or one column (softmax & co. differ)."""
    x = np.linspace(-3.0, 2.0, 8)
    try:
        with warnings.catch_warnings():  # softmax warns about its size-1 axis
            warnings.simplefilter("ignore")
            row = np.asarray(fn(to_tensor(x[None, :]))).ravel()
            col = np.asarray(fn(to_tensor(x[:, None]))).ravel()
    except Exception:  # e.g. glu on an odd last axis: not elementwise
        return False
    return row.shape == col.shape and np.allclose(row, col, rtol=0, atol=1e-12)


def vector_is_kinked(fn: Any, lines: int = 8, width: int = 6) -> bool:
    """Does a vector activation's derivative jump along random lines a + t*b?"""
    ops = import_keras().ops
    rng = np.random.default_rng(0)
    t = np.arange(-4.0, 4.0, 2.0**-9) + 2.0**-9 / np.pi
    for _ in range(lines):
        a, b, c = (to_tensor(rng.normal(size=width)) for _ in range(3))

        def along(tt: Any, a: Any = a, b: Any = b, c: Any = c) -> Any:
            out = fn(a[None, :] + tt[:, None] * b[None, :])
            return ops.sum(out * c[: out.shape[-1]][None, :], axis=1)

        f, d = (np.asarray(v) for v in grad_of_sum(along, to_tensor(t)))
        if len(_kink_intervals(_jumps(f, d, 2.0**-9))):
            return True
    return False


@cache
def activation_kinks(name: str) -> Kinks:
    """Where `keras.activations.get(name)` at default settings is not differentiable (probed
    in float64 on the selected backend)."""
    keras = import_keras()
    try:
        fn = keras.activations.get(name)
    except (ValueError, TypeError):
        return None
    with float64_mode():
        try:
            fn(to_tensor(np.zeros((1, 4))))
        except TypeError:
            return NEEDS_ARGS
        if _is_elementwise(fn):
            return elementwise_kinks(fn) or None
        return SUPPORT if vector_is_kinked(fn) else None

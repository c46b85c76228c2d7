"""The seed's vectorised logistic regression, its hand-derived gradients, and their check.

Layout as in the seed: X is (features, m), Y is (units, m), W is (units, features), b is
(units, 1). One sigmoid unit per class (one-vs-rest for all classes), or a single unit for
one chosen digit. The loss is the mean over samples of the summed binary cross-entropies,
whose gradient is exactly the seed's formulas:
    Z = W·X + b, A = sigmoid(Z), dZ = A - Y, dW = dZ·Xᵀ / m, db = mean(dZ) over samples.
(With several units, db must average over samples only, per unit: a plain np.mean(dZ) over
all entries is right only for the binary case.)
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from mnist_cli.gradients.autodiff import (
    backend_settings,
    float64_mode,
    not_float64,
    refuse_unless_float64,
    to_tensor,
    value_and_grad,
)
from mnist_cli.gradients.directional import unit_directions
from mnist_cli.gradients.numeric import sample_entries
from mnist_cli.gradients.report import (
    DirectionCheck,
    GradcheckResult,
    compare_rows,
    direction_row,
    noise_floor,
)

Grads = tuple[np.ndarray, np.ndarray]


def design(x: np.ndarray, y: np.ndarray, digit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, ...) and labels -> X (features, m) and 0/1 targets Y (units, m)."""
    X = np.asarray(x, np.float64).reshape(len(x), -1).T
    labels = np.asarray(y).astype(int)
    if digit is not None:
        return X, (labels == digit).astype(np.float64)[None, :]
    classes = int(labels.max()) + 1
    return X, (labels[None, :] == np.arange(classes)[:, None]).astype(np.float64)


def loss(W: np.ndarray, b: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Cross-entropy, broadcasting over leading axes of W/b (a stack of perturbed copies).

    Written as softplus(Z) - Y·Z, the stable form of -[Y log A + (1-Y) log(1-A)]."""
    Z = W @ X + b
    per = np.logaddexp(0.0, Z) - Y * Z
    return per.sum(axis=(-2, -1)) / X.shape[1]


def hand_gradients(W: np.ndarray, b: np.ndarray, X: np.ndarray, Y: np.ndarray) -> Grads:
    """The seed's back-propagation formulas."""
    m = X.shape[1]
    A = 1.0 / (1.0 + np.exp(-(W @ X + b)))
    dZ = A - Y
    return dZ @ X.T / m, dZ.mean(axis=1, keepdims=True)


def autodiff_gradients(W: np.ndarray, b: np.ndarray, X: np.ndarray, Y: np.ndarray) -> Grads:
    """The same loss differentiated by the selected backend's autodiff (GradientTape or
    jax.value_and_grad), in float64 (call inside `float64_mode`)."""
    from mnist_cli.backend import import_keras

    ops = import_keras().ops
    Xt, Yt = to_tensor(X), to_tensor(Y)

    def value(params: list) -> object:
        Z = ops.matmul(params[0], Xt) + params[1]
        return ops.sum(ops.softplus(Z) - Yt * Z) / X.shape[1]

    _, (gw, gb) = value_and_grad(value, [to_tensor(W), to_tensor(b)])
    refuse_unless_float64(not_float64({"the autodiff gradient of W": gw,
                                       "the autodiff gradient of b": gb}))
    return np.asarray(gw, np.float64), np.asarray(gb, np.float64)


def numeric_gradient(params: list[np.ndarray], which: int, entries: np.ndarray,
                     epsilon: float, X: np.ndarray, Y: np.ndarray,
                     chunk: int = 64) -> np.ndarray:
    """Central differences of `loss` at flat `entries` of params[which], a chunk of perturbed
    copies per numpy call."""
    base = params[which]
    out = []
    for start in range(0, len(entries), chunk):
        idx = entries[start:start + chunk]
        k = len(idx)
        flat = np.tile(base.ravel(), (2 * k, 1))
        plus, minus = base.ravel()[idx] + epsilon, base.ravel()[idx] - epsilon
        flat[np.arange(k), idx], flat[np.arange(k, 2 * k), idx] = plus, minus
        stacked = [p[None] for p in params]
        stacked[which] = flat.reshape((2 * k,) + base.shape)
        values = loss(stacked[0], stacked[1], X, Y)
        out.append((values[:k] - values[k:]) / (plus - minus))
    return np.concatenate(out)


def logistic_directions(W: np.ndarray, b: np.ndarray, X: np.ndarray, Y: np.ndarray,
                        hand: Grads, *, count: int, epsilon: float, seed: int,
                        floor: float) -> list[DirectionCheck]:
    """The hand gradients along `count` random unit directions (all of W and b, W alone, b
    alone) against central differences of the loss: every entry is involved."""
    rows = []
    sizes = (W.size, b.size)
    for gi, (name, which) in enumerate((("all variables", (0, 1)), ("W", (0,)), ("b", (1,)))):
        size = sum(sizes[j] for j in which)
        v = unit_directions(size, count, seed, gi)
        parts = np.split(v, np.cumsum([sizes[j] for j in which])[:-1], axis=1)
        steps = [np.zeros((count,) + p.shape) for p in (W, b)]
        for j, part in zip(which, parts, strict=True):
            steps[j] = part.reshape((count,) + (W, b)[j].shape)
        fd = (loss(W + epsilon * steps[0], b + epsilon * steps[1], X, Y)
              - loss(W - epsilon * steps[0], b - epsilon * steps[1], X, Y)) / (2 * epsilon)
        ad = sum((steps[j] * hand[j][None]).reshape(count, -1).sum(axis=1) for j in (0, 1))
        rows.append(direction_row(name, size, fd, ad, np.zeros(count, int), X.shape[1], floor))
    return rows


def run_logistic_gradcheck(x: np.ndarray, y: np.ndarray, *, digit: int | None = None,
                           epsilon: float = 1e-5, seed: int = 0,
                           params: int | None = 100,
                           gradients: Callable[..., Grads] = hand_gradients,
                           directions: int = 16) -> GradcheckResult:
    """Check the hand-derived gradients against finite differences and the backend's autodiff
    (the 'gradient-tape' rows: GradientTape, or jax.value_and_grad on JAX).

    Parameters start small and random (seeded) rather than at the seed's zeros, so no
    symmetry hides a wrong formula. `gradients` lets tests plant a wrong formula."""
    t0 = time.perf_counter()
    X, Y = design(x, y, digit)
    rng = np.random.default_rng(seed)
    W, b = rng.normal(0.0, 0.01, (Y.shape[0], X.shape[0])), rng.normal(0.0, 0.01, (Y.shape[0], 1))
    with float64_mode():
        hand, tape = gradients(W, b, X, Y), autodiff_gradients(W, b, X, Y)
    fd_checks, tape_checks = [], []
    for i, (name, value) in enumerate((("W", W), ("b", b))):
        entries = sample_entries(value.size, params, seed, i)
        fd = numeric_gradient([W, b], i, entries, epsilon, X, Y)
        calc = hand[i].ravel()[entries]
        none = np.zeros(len(entries), int)
        fd_checks.append((name, value.shape, entries, calc, fd, none))
        everything = np.arange(value.size)
        tape_checks.append((name, value.shape, everything, hand[i].ravel(), tape[i].ravel(),
                            np.zeros(value.size, int)))
    floor = noise_floor(float(loss(W, b, X, Y)), epsilon)
    result = compare_rows(fd_checks, "finite-difference", model="logistic", floor=floor)
    by_tape = compare_rows(tape_checks, "gradient-tape")
    result.variables += by_tape.variables
    result.notes += by_tape.notes
    if directions > 0:
        result.directional = logistic_directions(W, b, X, Y, hand, count=directions,
                                                 epsilon=epsilon, seed=seed, floor=floor)
    result.settings = {"epsilon": epsilon, "params": "all" if params is None else params,
                       "batch": int(len(x)), "seed": seed, "dtype": "float64",
                       "directions": directions, "digit": digit, "units": int(Y.shape[0]),
                       **backend_settings()}
    result.finalise()
    result.seconds = time.perf_counter() - t0
    return result

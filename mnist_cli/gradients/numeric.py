"""Float64 finite differences vs autodiff for a Keras Sequential model, entry by entry.

The model is checked on its float64 clone (see `clone`). This module compares a seeded
sample of single entries (the per-entry table and its kink report); `directional` covers
every entry through random directions.

Speed: perturbing a variable of layer L leaves layers before L untouched, so their output is
computed once; the 2K perturbed copies of layer L (K entries, +eps and -eps) run inside one
compiled program (`autodiff.compiled`) and the layers after L see them as one batch of 2K*N
samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

import mnist_cli.gradients.kinks as kk
from mnist_cli.backend import import_keras, tensorflow_hidden_from_keras
from mnist_cli.gradients.autodiff import (
    backend_settings,
    compiled,
    float64_mode,
    map_over,
    to_tensor,
)
from mnist_cli.gradients.clone import (
    Clone,
    Stage,
    apply_stage,
    autodiff_gradients,
    call_kwargs,
    float64_clone,
    forward,
    logits_note,
    per_sample_loss,
    trainable_weights,
)
from mnist_cli.gradients.directional import DEFAULT_DIRECTIONS, Problem, check_directions
from mnist_cli.gradients.report import GradcheckResult, compare_rows, noise_floor

CHUNK_BYTES = 192 * 2**20
"""Activation memory one batch of perturbed passes may use; bounds the pairs per compiled call."""
MAX_PAIRS = 32


def _pairs_per_call(stages: list[Stage], start: int, batch: int) -> int:
    """How many +-eps pairs fit in CHUNK_BYTES of float64 activations (x3 for temporaries)."""
    widest = max(int(np.prod(s.layer.output.shape[1:])) for s in stages[start:])
    return int(np.clip(CHUNK_BYTES // (2 * batch * widest * 8 * 3), 1, MAX_PAIRS))


def _perturbed_fn(clone: Clone, li: int, vi: int, n: int, from_logits: bool) -> Any:
    """Compiled: (2K flat copies of variable vi of layer li, the layer's input, the labels,
    every trainable weight) -> (2K losses, K kink counts). Arrays are arguments, not
    captured constants (JAX would compile them into the program)."""
    ops = import_keras().ops
    stage = clone.stages[li]
    layer, ntv = stage.layer, [v.value for v in stage.layer.non_trainable_variables]
    first = sum(len(s.layer.trainable_variables) for s in clone.stages[:li])
    last = first + len(layer.trainable_variables)
    shape, kwargs = tuple(layer.trainable_variables[vi].shape), call_kwargs(layer)

    def run(flat: Any, h_in: Any, y: Any, weights: list) -> tuple[Any, Any]:
        def one(w_flat: Any) -> Any:
            tv = list(weights[first:last])
            tv[vi] = ops.reshape(w_flat, shape)
            return layer.stateless_call(tv, ntv, h_in, **kwargs)[0]

        outs = map_over(one, flat)
        probes: list = []
        h = apply_stage(stage, None, ops.reshape(outs, (-1, *outs.shape[2:])), probes)
        h = forward(clone.stages, h, li + 1, probes, weights=weights[last:])
        ys = ops.tile(y, [ops.shape(flat)[0]])
        losses = ops.sum(ops.reshape(per_sample_loss(ys, h, from_logits), (-1, n)), axis=1) / n
        counts = [kk.count_changes(p, n) for p in probes]
        return losses, kk.add_all(counts) if counts else ops.zeros_like(losses[::2], "int64")

    return compiled(run)


def finite_differences(clone: Clone, li: int, vi: int, h_in: Any, y: Any, entries: np.ndarray,
                       epsilon: float, from_logits: bool) -> tuple[np.ndarray, np.ndarray]:
    """Central differences (L(w+eps) - L(w-eps)) / (2 eps) at the flat `entries`, and how many
    units changed piece (kinks) between the two evaluations of each."""
    base = np.asarray(clone.stages[li].layer.trainable_variables[vi], np.float64).ravel()
    n = int(h_in.shape[0])
    run = _perturbed_fn(clone, li, vi, n, from_logits)
    weights = trainable_weights(clone.stages)
    k = min(_pairs_per_call(clone.stages, li, n), len(entries))
    grads, counts = [], []
    for start in range(0, len(entries), k):
        idx = entries[start:start + k]
        idx = np.concatenate([idx, np.repeat(idx[-1:], k - len(idx))])  # one shape, one trace
        plus, minus = base[idx] + epsilon, base[idx] - epsilon
        flat = np.tile(base, (2 * k, 1))
        flat[np.arange(k), idx], flat[np.arange(k, 2 * k), idx] = plus, minus
        losses, kinks = (np.asarray(t) for t in run(to_tensor(flat), h_in, y, weights))
        grads.append((losses[:k] - losses[k:]) / (plus - minus))
        counts.append(kinks)
    return np.concatenate(grads)[:len(entries)], np.concatenate(counts)[:len(entries)]


def sample_entries(size: int, params: int | None, seed: int, index: int) -> np.ndarray:
    """Sorted flat indices to check: all of them, or `params` drawn without replacement from a
    generator seeded by (seed, variable index) so the choice is reproducible per variable."""
    if params is None or params >= size:
        return np.arange(size)
    rng = np.random.default_rng([seed, index])
    return np.sort(rng.choice(size, size=params, replace=False))


GradientHook = Callable[[list[np.ndarray]], list[np.ndarray]]
"""Maps autodiff's per-variable gradients to the ones under test (tests plant bugs with it)."""


def _entry_checks(clone: Clone, xs: Any, ys: Any, grads: list[np.ndarray], *,
                  params: int | None,
                  epsilon: float, seed: int, from_logits: bool) -> list:
    """Per variable: the seeded sample of entries, autodiff there, finite differences, kinks."""
    checks, h, vindex = [], xs, 0
    for li, stage in enumerate(clone.stages):
        for vi, var in enumerate(stage.layer.trainable_variables):
            entries = sample_entries(int(np.prod(var.shape)), params, seed, vindex)
            fd, kinks = finite_differences(clone, li, vi, h, ys, entries, epsilon, from_logits)
            checks.append((f"{stage.layer.name}/{var.name}", tuple(var.shape), entries,
                           grads[vindex].ravel()[entries], fd, kinks))
            vindex += 1
        h = forward(clone.stages[li:li + 1], h)
    return checks


def check_model(model: Any, x: np.ndarray, y: np.ndarray, *, from_logits: bool,
                params: int | None, epsilon: float, seed: int, name: str | None = None,
                directions: int = DEFAULT_DIRECTIONS,
                gradient_hook: GradientHook | None = None) -> GradcheckResult:
    """Gradient-check a built Keras Sequential on (x, y): a seeded sample of entries (with the
    kink report) and `directions` random directions covering every entry, on the selected
    backend, in float64 (`float64_mode`). The core of `run_gradcheck`; `gradient_hook`
    replaces autodiff's gradients before they are compared."""
    t0 = time.perf_counter()
    with float64_mode(), tensorflow_hidden_from_keras():  # Keras's get_config asks tf.available
        result = _check_clone(float64_clone(model), x, y, from_logits=from_logits,
                              params=params, epsilon=epsilon, seed=seed,
                              directions=directions, gradient_hook=gradient_hook)
    result.model = name or model.name
    result.settings = {"epsilon": epsilon, "params": "all" if params is None else params,
                       "directions": directions, "batch": int(len(x)), "seed": seed,
                       "dtype": "float64", "mode": "inference (training=False)",
                       **backend_settings()}
    result.seconds = time.perf_counter() - t0
    return result


def _check_clone(clone: Clone, x: np.ndarray, y: np.ndarray, *, from_logits: bool,
                 params: int | None, epsilon: float, seed: int, directions: int,
                 gradient_hook: GradientHook | None) -> GradcheckResult:
    """`check_model` on the float64 clone (inside `float64_mode`)."""
    xs, ys = to_tensor(np.asarray(x, np.float64)), to_tensor(np.asarray(y, np.int64))
    grads, loss = autodiff_gradients(clone, xs, ys, from_logits)
    if gradient_hook is not None:
        grads = [np.asarray(g, np.float64) for g in gradient_hook([g.copy() for g in grads])]
    checks = _entry_checks(clone, xs, ys, grads, params=params, epsilon=epsilon, seed=seed,
                           from_logits=from_logits)
    floor = noise_floor(loss, epsilon)
    result = compare_rows(checks, "finite-difference", floor=floor)
    if directions > 0:
        t1 = time.perf_counter()
        problem = Problem(clone, xs, ys, from_logits, grads, gradient_hook)
        result.directional = check_directions(problem, count=directions, epsilon=epsilon,
                                              seed=seed, floor=floor, names=[c[0] for c in checks])
        result.directional_seconds = time.perf_counter() - t1
    else:
        result.notes.append("directional check skipped (--directions 0): only the sampled "
                            "entries were compared")
    result.finalise()
    result.notes += clone.notes + logits_note(clone.model, from_logits)
    return result


DEFAULT_EPSILON = 1e-5
"""Measured on mlp_relu / cnn in float64: overall rel diff ~5e-10 at 1e-5, ~5e-9 at 1e-6
(rounding error grows as 1/eps), while 1e-4 straddles many more ReLU kinks."""
DEFAULT_PARAMS = 100
"""Entries sampled per variable for the per-entry table and kink report: small variables
whole, large kernels by a seeded sample. Was 200 before the directional check (which covers
every entry) existed; halving it pays for the directions. Measured on the 28x28 CNN (347k
params) on the shared 2-core machine: 200 entries alone ~30 s CPU, 100 entries + 16
directions ~29 s CPU (16 directions ~11 s CPU)."""
DEFAULT_BATCH = 64
"""Samples in the checked batch: enough to cover all classes, small enough to stay fast."""


def run_gradcheck(model_cfg: Any, x: np.ndarray, y: np.ndarray, *,
                  params: int | None = DEFAULT_PARAMS, epsilon: float = DEFAULT_EPSILON,
                  seed: int = 0, num_classes: int | None = None, name: str = "model",
                  directions: int = DEFAULT_DIRECTIONS) -> GradcheckResult:
    """Build the config's model (seeded init) for x's shape and gradient-check it on (x, y).

    x: float images (N, H, W, C) as training sees them; y: int labels. params=None checks
    every entry."""
    from mnist_cli.modeling.build import build_model
    from mnist_cli.training.seeding import seed_everything

    seed_everything(seed, deterministic=False)  # seeded init, as a run's
    units = model_cfg.layers[-1].kwargs.get("units") if model_cfg.layers else None
    classes = num_classes or units or int(np.max(y)) + 1
    model = build_model(model_cfg, tuple(x.shape[1:]), classes, name=name)
    return check_model(model, x, y, from_logits=model_cfg.output == "logits", params=params,
                       epsilon=epsilon, seed=seed, name=name, directions=directions)

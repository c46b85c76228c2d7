"""Float64 finite differences vs GradientTape for a Keras Sequential model, entry by entry.

The model is checked on its float64 clone (see `clone`). This module compares a seeded
sample of single entries (the per-entry table and its kink report); `directional` covers
every entry through random directions.

Speed: perturbing a variable of layer L leaves layers before L untouched, so their output is
computed once; the 2K perturbed copies of layer L (K entries, +eps and -eps) run inside one
graph and the layers after L see them as one batch of 2K*N samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

import mnist_cli.gradients.kinks as kk
from mnist_cli.backend import import_keras, import_tf
from mnist_cli.gradients.clone import (
    Clone,
    Stage,
    apply_stage,
    call_kwargs,
    float64_clone,
    forward,
    logits_note,
    per_sample_loss,
    tape_gradients,
)
from mnist_cli.gradients.directional import DEFAULT_DIRECTIONS, Problem, check_directions
from mnist_cli.gradients.report import GradcheckResult, compare_rows, noise_floor

CHUNK_BYTES = 192 * 2**20
"""Activation memory one batch of perturbed passes may use; bounds the pairs per graph call."""
MAX_PAIRS = 32


def _pairs_per_call(stages: list[Stage], start: int, batch: int) -> int:
    """How many +-eps pairs fit in CHUNK_BYTES of float64 activations (x3 for temporaries)."""
    widest = max(int(np.prod(s.layer.output.shape[1:])) for s in stages[start:])
    return int(np.clip(CHUNK_BYTES // (2 * batch * widest * 8 * 3), 1, MAX_PAIRS))


def _perturbed_fn(clone: Clone, li: int, vi: int, h_in: Any, y: Any, from_logits: bool) -> Any:
    """Graph: (2K flat weight copies) -> (2K losses, K kink counts) for variable vi of layer li."""
    tf, keras = import_tf(), import_keras()
    stage = clone.stages[li]
    layer, ntv = stage.layer, [v.value for v in stage.layer.non_trainable_variables]
    tv = [v.value for v in layer.trainable_variables]
    shape, n = tuple(tv[vi].shape), int(h_in.shape[0])
    kwargs = call_kwargs(layer)

    def one(w_flat: Any) -> Any:
        weights = list(tv)
        weights[vi] = tf.reshape(w_flat, shape)
        return layer.stateless_call(weights, ntv, h_in, **kwargs)[0]

    @tf.function(reduce_retracing=True)
    def run(flat: Any) -> tuple[Any, Any]:
        outs = tf.map_fn(one, flat, fn_output_signature=tf.float64, parallel_iterations=8)
        total = tf.shape(flat)[0]
        out = tf.reshape(outs, tf.concat([[total * n], tf.shape(outs)[2:]], 0))
        probes: list = []
        h = apply_stage(tf, stage, None, out, probes)
        h = forward(tf, clone.stages, h, li + 1, probes)
        ys = tf.tile(y, [total])
        losses = tf.reduce_mean(tf.reshape(per_sample_loss(keras, ys, h, from_logits),
                                           (total, n)), axis=1)
        pairs = total // 2
        counts = [kk.count_changes(tf, p, pairs) for p in probes]
        return losses, tf.add_n(counts) if counts else tf.zeros([pairs], tf.int64)

    return run


def finite_differences(clone: Clone, li: int, vi: int, h_in: Any, y: Any, entries: np.ndarray,
                       epsilon: float, from_logits: bool) -> tuple[np.ndarray, np.ndarray]:
    """Central differences (L(w+eps) - L(w-eps)) / (2 eps) at the flat `entries`, and how many
    units changed piece (kinks) between the two evaluations of each."""
    tf = import_tf()
    base = np.asarray(clone.stages[li].layer.trainable_variables[vi], np.float64).ravel()
    run = _perturbed_fn(clone, li, vi, h_in, y, from_logits)
    k = min(_pairs_per_call(clone.stages, li, int(h_in.shape[0])), len(entries))
    grads, counts = [], []
    for start in range(0, len(entries), k):
        idx = entries[start:start + k]
        idx = np.concatenate([idx, np.repeat(idx[-1:], k - len(idx))])  # one shape, one trace
        plus, minus = base[idx] + epsilon, base[idx] - epsilon
        flat = np.tile(base, (2 * k, 1))
        flat[np.arange(k), idx], flat[np.arange(k, 2 * k), idx] = plus, minus
        losses, kinks = (np.asarray(t) for t in run(tf.constant(flat)))
        grads.append((losses[:k] - losses[k:]) / (plus - minus))
        counts.append(kinks)
    n = len(entries)
    return np.concatenate(grads)[:n], np.concatenate(counts)[:n]


def sample_entries(size: int, params: int | None, seed: int, index: int) -> np.ndarray:
    """Sorted flat indices to check: all of them, or `params` drawn without replacement from a
    generator seeded by (seed, variable index) so the choice is reproducible per variable."""
    if params is None or params >= size:
        return np.arange(size)
    rng = np.random.default_rng([seed, index])
    return np.sort(rng.choice(size, size=params, replace=False))


GradientHook = Callable[[list[np.ndarray]], list[np.ndarray]]
"""Maps autodiff's per-variable gradients to the ones under test (tests plant bugs with it)."""


def _entry_checks(clone: Clone, xs: Any, ys: Any, tape: list[np.ndarray], *, params: int | None,
                  epsilon: float, seed: int, from_logits: bool) -> list:
    """Per variable: the seeded sample of entries, autodiff there, finite differences, kinks."""
    tf = import_tf()
    checks, h, vindex = [], xs, 0
    for li, stage in enumerate(clone.stages):
        for vi, var in enumerate(stage.layer.trainable_variables):
            entries = sample_entries(int(np.prod(var.shape)), params, seed, vindex)
            fd, kinks = finite_differences(clone, li, vi, h, ys, entries, epsilon, from_logits)
            checks.append((f"{stage.layer.name}/{var.name}", tuple(var.shape), entries,
                           tape[vindex].ravel()[entries], fd, kinks))
            vindex += 1
        h = forward(tf, clone.stages[li:li + 1], h)
    return checks


def check_model(model: Any, x: np.ndarray, y: np.ndarray, *, from_logits: bool,
                params: int | None, epsilon: float, seed: int, name: str | None = None,
                directions: int = DEFAULT_DIRECTIONS,
                gradient_hook: GradientHook | None = None) -> GradcheckResult:
    """Gradient-check a built Keras Sequential on (x, y): a seeded sample of entries (with the
    kink report) and `directions` random directions covering every entry. The core of
    `run_gradcheck`; `gradient_hook` replaces autodiff's gradients before they are compared."""
    tf = import_tf()
    t0 = time.perf_counter()
    clone = float64_clone(model)
    xs, ys = tf.constant(np.asarray(x, np.float64)), tf.constant(np.asarray(y, np.int64))
    tape, loss = tape_gradients(clone, xs, ys, from_logits)
    if gradient_hook is not None:
        tape = [np.asarray(g, np.float64) for g in gradient_hook([g.copy() for g in tape])]
    checks = _entry_checks(clone, xs, ys, tape, params=params, epsilon=epsilon, seed=seed,
                           from_logits=from_logits)
    floor = noise_floor(loss, epsilon)
    result = compare_rows(checks, "finite-difference", floor=floor)
    if directions > 0:
        t1 = time.perf_counter()
        problem = Problem(clone, xs, ys, from_logits, tape, gradient_hook)
        result.directional = check_directions(problem, count=directions, epsilon=epsilon,
                                              seed=seed, floor=floor, names=[c[0] for c in checks])
        result.directional_seconds = time.perf_counter() - t1
    else:
        result.notes.append("directional check skipped (--directions 0): only the sampled "
                            "entries were compared")
    result.finalise()
    result.model = name or model.name
    result.notes += clone.notes + logits_note(clone.model, from_logits)
    result.settings = {"epsilon": epsilon, "params": "all" if params is None else params,
                       "directions": directions, "batch": int(len(x)), "seed": seed,
                       "dtype": "float64", "mode": "inference (training=False)"}
    result.seconds = time.perf_counter() - t0
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

    keras = import_keras()
    keras.utils.set_random_seed(seed)
    units = model_cfg.layers[-1].kwargs.get("units") if model_cfg.layers else None
    classes = num_classes or units or int(np.max(y)) + 1
    model = build_model(model_cfg, tuple(x.shape[1:]), classes, name=name)
    return check_model(model, x, y, from_logits=model_cfg.output == "logits", params=params,
                       epsilon=epsilon, seed=seed, name=name, directions=directions)

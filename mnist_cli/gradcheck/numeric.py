"""Float64 finite differences vs GradientTape for a Keras Sequential model.

The model is cloned from its config with every layer in float64 (float32 finite differences
are useless: rounding error ~1e-7/eps swamps the gradient). ReLU-like activations are split
off their layers so the pre-activations can be probed for kinks (see `kinks`).

Speed: perturbing a variable of layer L leaves layers before L untouched, so their output is
computed once; the 2K perturbed copies of layer L (K entries, +eps and -eps) run inside one
graph and the layers after L see them as one batch of 2K*N samples.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from inspect import signature
from typing import Any

import numpy as np

import mnist_cli.gradcheck.kinks as kk
from mnist_cli.gradcheck.report import GradcheckResult, compare_rows, noise_floor
from mnist_cli.tfenv import import_keras, import_tf

CHUNK_BYTES = 192 * 2**20
"""Activation memory one batch of perturbed passes may use; bounds the pairs per graph call."""
MAX_PAIRS = 32


@dataclass
class Stage:
    """One layer of the float64 clone, with what to probe for kinks around it."""

    layer: Any
    post: Any = None
    """Activation split off the layer (applied after probing its pre-activation)."""
    post_points: tuple[float, ...] | None = None
    in_points: tuple[float, ...] | None = None
    """Kinks of a stand-alone activation layer, probed on its input."""
    pool: bool = False


@dataclass
class Clone:
    model: Any
    stages: list[Stage]
    notes: list[str] = field(default_factory=list)


def _stage(keras: Any, layer: Any, cfg: dict[str, Any], split: str | None,
           notes: list[str]) -> Stage:
    name, conf = cfg["class_name"], cfg["config"]
    if name in kk.UNCHECKED_KINKS:
        notes.append(f"{layer.name}: {name} kinks are not detected")
    post = post_points = None
    if split:
        post_points, post = kk.kink_points(split), keras.activations.get(split)
    return Stage(layer, post, post_points, kk.layer_kink_points(name, conf), name in kk.MAX_POOLS)


def float64_clone(model: Any) -> Clone:
    """The same Sequential, weights copied, every layer computing in float64."""
    keras = import_keras()
    config = model.get_config()
    layer_cfgs = [c for c in config["layers"] if c["class_name"] != "InputLayer"]
    splits = []
    for cfg in config["layers"]:
        cfg["config"]["dtype"] = "float64"
        act = cfg["config"].get("activation")
        splits.append(act if kk.kink_points(act) else None)
        if splits[-1]:
            cfg["config"]["activation"] = "linear"
    clone = keras.Sequential.from_config(config)
    clone.set_weights([np.asarray(w, dtype=np.float64) for w in model.get_weights()])
    splits = [s for s, c in zip(splits, config["layers"], strict=True)
              if c["class_name"] != "InputLayer"]
    notes: list[str] = []
    stages = []
    for layer, cfg, split in zip(clone.layers, layer_cfgs, splits, strict=True):
        stages.append(_stage(keras, layer, cfg, split, notes))
    return Clone(clone, stages, notes)


def _apply(tf: Any, stage: Stage, h: Any, out: Any, probes: list | None) -> Any:
    """Finish a stage given its layer output `out` (input `h`), collecting kink codes."""
    if probes is not None:
        if stage.in_points:
            probes.append(kk.region_codes(tf, h, stage.in_points))
        if stage.pool:
            probes.append(kk.pool_argmax(tf, stage.layer, h))
        if stage.post_points:
            probes.append(kk.region_codes(tf, out, stage.post_points))
    return out if stage.post is None else stage.post(out)


def forward(tf: Any, stages: list[Stage], h: Any, start: int = 0,
            probes: list | None = None) -> Any:
    """Run stages[start:] in inference mode (dropout off, so the loss is deterministic)."""
    for stage in stages[start:]:
        h = _apply(tf, stage, h, stage.layer(h, training=False), probes)
    return h


def per_sample_loss(keras: Any, y: Any, out: Any, from_logits: bool) -> Any:
    """The training loss (sparse categorical cross-entropy) of each sample."""
    return keras.losses.sparse_categorical_crossentropy(y, out, from_logits=from_logits)


def tape_gradients(clone: Clone, x: Any, y: Any,
                   from_logits: bool) -> tuple[list[np.ndarray], float]:
    """Autodiff gradients of the mean loss for every trainable variable (float64), and the loss."""
    tf, keras = import_tf(), import_keras()
    variables = clone.model.trainable_variables
    with tf.GradientTape() as tape:
        out = forward(tf, clone.stages, x)
        loss = tf.reduce_mean(per_sample_loss(keras, y, out, from_logits))
    return [np.asarray(g, dtype=np.float64) for g in tape.gradient(loss, variables)], float(loss)


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
    kwargs = {"training": False} if "training" in signature(layer.call).parameters else {}

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
        h = _apply(tf, stage, None, out, probes)
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


def check_model(model: Any, x: np.ndarray, y: np.ndarray, *, from_logits: bool,
                params: int | None, epsilon: float, seed: int,
                name: str | None = None) -> GradcheckResult:
    """Gradient-check a built Keras Sequential on (x, y); the core of `run_gradcheck`."""
    tf = import_tf()
    t0 = time.perf_counter()
    clone = float64_clone(model)
    xs, ys = tf.constant(np.asarray(x, np.float64)), tf.constant(np.asarray(y, np.int64))
    tape, loss = tape_gradients(clone, xs, ys, from_logits)
    checks, h, vindex = [], xs, 0
    for li, stage in enumerate(clone.stages):
        for vi, var in enumerate(stage.layer.trainable_variables):
            entries = sample_entries(int(np.prod(var.shape)), params, seed, vindex)
            fd, kinks = finite_differences(clone, li, vi, h, ys, entries, epsilon, from_logits)
            checks.append((f"{stage.layer.name}/{var.name}", tuple(var.shape), entries,
                           tape[vindex].ravel()[entries], fd, kinks))
            vindex += 1
        h = forward(tf, clone.stages[li:li + 1], h)
    result = compare_rows(checks, "finite-difference", floor=noise_floor(loss, epsilon))
    result.model = name or model.name
    result.notes += clone.notes
    result.settings = {"epsilon": epsilon, "params": "all" if params is None else params,
                       "batch": int(len(x)), "seed": seed, "dtype": "float64",
                       "mode": "inference (training=False)"}
    result.seconds = time.perf_counter() - t0
    return result


DEFAULT_EPSILON = 1e-5
"""Measured on mlp_relu / cnn in float64: overall rel diff ~5e-10 at 1e-5, ~5e-9 at 1e-6
(rounding error grows as 1/eps), while 1e-4 straddles many more ReLU kinks."""
DEFAULT_PARAMS = 200
"""Entries sampled per variable: every small variable is checked whole, large kernels by a
seeded sample; keeps the CNN (~347k params on MNIST) near the 20 s budget on 2 cores."""
DEFAULT_BATCH = 64
"""Samples in the checked batch: enough to cover all classes, small enough to stay fast."""


def run_gradcheck(model_cfg: Any, x: np.ndarray, y: np.ndarray, *,
                  params: int | None = DEFAULT_PARAMS, epsilon: float = DEFAULT_EPSILON,
                  seed: int = 0, num_classes: int | None = None,
                  name: str = "model") -> GradcheckResult:
    """Build the config's model (seeded init) for x's shape and gradient-check it on (x, y).

    x: float images (N, H, W, C) as training sees them; y: int labels. params=None checks
    every entry."""
    from mnist_cli.model import build_model

    keras = import_keras()
    keras.utils.set_random_seed(seed)
    units = model_cfg.layers[-1].kwargs.get("units") if model_cfg.layers else None
    classes = num_classes or units or int(np.max(y)) + 1
    model = build_model(model_cfg, tuple(x.shape[1:]), classes, name=name)
    return check_model(model, x, y, from_logits=model_cfg.output == "logits", params=params,
                       epsilon=epsilon, seed=seed, name=name)

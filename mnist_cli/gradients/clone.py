"""The float64 copy of a Keras Sequential that every gradient check evaluates.

The model is cloned from its config with every layer's dtype policy set to float64, whatever
the global Keras policy or floatx says (float32 finite differences are useless: rounding
error ~1e-7/eps swamps the gradient), and checked to really compute in float64. Kinked
activations are split off their layers so the pre-activations can be probed (see `kinks`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from inspect import signature
from typing import Any

import numpy as np

import mnist_cli.gradients.kinks as kk
from mnist_cli.backend import import_keras, is_jax, tensorflow_hidden_from_keras
from mnist_cli.gradients.autodiff import (
    narrower_than_float64,
    not_float64,
    opaque,
    pool_winners,
    refuse_unless_float64,
    value_and_grad,
)


@dataclass
class Stage:
    """One layer of the float64 clone, with what to probe for kinks around it."""

    layer: Any
    post: Any = None
    """Activation split off the layer (applied after probing its pre-activation)."""
    post_points: kk.Kinks = None
    in_points: kk.Kinks = None
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


def config_of(obj: Any) -> dict[str, Any]:
    """A model's or layer's `get_config()`, without the TensorFlow import that Keras's
    serialisation asks for on JAX (`tf.available`)."""
    with tensorflow_hidden_from_keras():
        return obj.get_config()


def float64_clone(model: Any) -> Clone:
    """The same Sequential, weights copied, every layer computing in float64 (call inside
    `float64_mode`)."""
    keras = import_keras()
    config = config_of(model)
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
    stages = [_stage(keras, layer, cfg, split, notes)
              for layer, cfg, split in zip(clone.layers, layer_cfgs, splits, strict=True)]
    require_float64(clone)
    return Clone(clone, stages, notes)


def require_float64(model: Any, computed: dict[str, Any] | None = None) -> None:
    """Refuse to check a model that does not compute in float64: a dtype policy the clone
    could not override, or a backend that truncates float64 (JAX without x64 mode keeps the
    declared dtypes but computes in float32). So the arrays themselves are checked too: the
    weights' values and, when given, `computed` (name -> array: the loss, the gradients)."""
    wrong = [f"{layer.name} computes in {layer.compute_dtype}" for layer in model.layers
             if layer.compute_dtype != "float64"]
    wrong += [f"{v.path} is {v.dtype}" for v in model.weights if v.dtype != "float64"]
    wrong += not_float64({f"{v.path}'s value": v.value for v in model.weights
                          if v.dtype == "float64"})
    refuse_unless_float64(wrong + not_float64(computed or {}))


def call_kwargs(layer: Any) -> dict[str, Any]:
    """training=False for layers that take it (dropout off: the loss is deterministic)."""
    return {"training": False} if "training" in signature(layer.call).parameters else {}


def apply_stage(stage: Stage, h: Any, out: Any, probes: list | None) -> Any:
    """Finish a stage given its layer output `out` (input `h`), collecting kink codes."""
    if probes is not None:
        if stage.in_points:
            probes.append(kk.probe_codes(h, stage.in_points, stage.layer))
        if stage.pool:
            probes.append(pool_winners(stage.layer, h))
        if stage.post_points:
            probes.append(kk.probe_codes(out, stage.post_points, stage.post))
    return out if stage.post is None else stage.post(out)


def trainable_weights(stages: list[Stage]) -> list[Any]:
    """The current values of every trainable weight of `stages`, in `forward`'s order (the
    model's `trainable_variables` order)."""
    return [v.value for stage in stages for v in stage.layer.trainable_variables]


def forward(stages: list[Stage], h: Any, start: int = 0, probes: list | None = None,
            weights: list | None = None) -> Any:
    """Run stages[start:] in inference mode (dropout off, so the loss is deterministic).

    With `weights` (every trainable weight of stages[start:], in order) each layer runs
    through `stateless_call` on them, so autodiff can differentiate with respect to them;
    without, on its own variables."""
    i = 0
    for stage in stages[start:]:
        layer = stage.layer
        n = len(layer.trainable_variables) if weights is not None else 0
        if n:
            ntv = [v.value for v in layer.non_trainable_variables]
            out = layer.stateless_call(weights[i:i + n], ntv, h, **call_kwargs(layer))[0]
        else:
            out = layer(h, training=False)
        h, i = apply_stage(stage, h, out, probes), i + n
    return h


def per_sample_loss(y: Any, out: Any, from_logits: bool) -> Any:
    """The training loss (sparse categorical cross-entropy) of each sample, of `out` exactly
    as computed (`opaque`: on TensorFlow, Keras's loss otherwise swaps a softmax / sigmoid
    output for its input logits when it can tell, which differs between the autodiff and
    finite-difference paths here and would compare two different losses). See `logits_note`
    for what training does."""
    keras = import_keras()
    return keras.losses.sparse_categorical_crossentropy(y, opaque(out), from_logits=from_logits)


def mean_loss(stages: list[Stage], x: Any, y: Any, from_logits: bool,
              keep: Any = None) -> Callable[[list], Any]:
    """The mean training loss over (x, y) as a function of the trainable weights; with `keep`
    (1/0 per sample), the sum of the kept samples' losses over the batch size."""
    ops = import_keras().ops

    def loss(weights: list) -> Any:
        losses = per_sample_loss(y, forward(stages, x, weights=weights), from_logits)
        total = ops.sum(losses) if keep is None else ops.sum(losses * keep)
        return total / x.shape[0]

    return loss


def logits_note(model: Any, from_logits: bool) -> list[str]:
    """Say so when the output layer ends in softmax/sigmoid but the loss takes logits: Keras's
    training loss on TensorFlow then silently uses the pre-activation values instead (it
    warns); on JAX it applies softmax to the probabilities again, as checked here."""
    act = config_of(model.layers[-1]).get("activation") if model.layers else None
    if not (from_logits and act in ("softmax", "sigmoid")):
        return []
    fix = "(set model.output: probabilities, or drop the activation)"
    if is_jax():
        return [f"the last layer applies {act} but model.output is 'logits': the loss treats "
                f"its {act} outputs as logits (Keras training on JAX does the same; on "
                f"TensorFlow it would feed the values before {act} to the loss) {fix}"]
    return [f"the last layer applies {act} but model.output is 'logits': Keras training "
            f"would feed the values before {act} to the loss; gradcheck checks the loss of "
            f"the output as configured {fix}"]


def autodiff_gradients(clone: Clone, x: Any, y: Any,
                       from_logits: bool) -> tuple[list[np.ndarray], float]:
    """Autodiff gradients of the mean loss for every trainable variable, and the loss, by the
    backend's autodiff (`autodiff.value_and_grad`); refused unless both are float64."""
    weights = trainable_weights(clone.stages)
    loss_fn = mean_loss(clone.stages, x, y, from_logits)
    loss, grads = value_and_grad(loss_fn, weights)
    computed = {"the loss": loss}
    computed.update({f"the gradient of {v.path}": g for v, g
                     in zip(clone.model.trainable_variables, grads, strict=True)})
    require_float64(clone.model, computed)
    refuse_unless_float64(narrower_than_float64(lambda w: value_and_grad(loss_fn, w), weights))
    return [np.asarray(g, dtype=np.float64) for g in grads], float(loss)

"""Kink detection: which finite differences straddle a non-differentiable point.

ReLU-like activations and max-pooling are piecewise smooth. A central difference whose two
evaluations, at w+eps and w-eps, fall on different pieces measures a blend of two slopes and
gives a false alarm. Rather than guessing from distances ("pre-activation within eps of 0"),
we record exactly which piece every unit is on in both evaluations (the region code of each
pre-activation, the argmax of each pooling window) and flag the entry if any code differs.
Which activations have kinks, and where, is derived from `keras.activations` itself (see
`activations`), not kept as a hand list.
"""

from __future__ import annotations

from typing import Any

from mnist_cli.gradients.activations import NEEDS_ARGS, SUPPORT, Kinks, activation_kinks

MAX_POOLS = {"MaxPooling1D", "MaxPooling2D"}
UNCHECKED_KINKS = {"MaxPooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
                   "GlobalMaxPooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D",
                   "AdaptiveMaxPooling3D"}
"""Layers with kinks this module does not probe (reported as a note)."""


def kink_points(activation: Any) -> Kinks:
    """Kinks of a serialised activation (derived by probing `keras.activations`, see
    `activations`), or None if it is smooth, unknown or not given by name."""
    if not isinstance(activation, str):
        return None
    kinks = activation_kinks(activation)
    return None if kinks == NEEDS_ARGS else kinks


def relu_layer_points(config: dict[str, Any]) -> tuple[float, ...]:
    """Kinks of a `keras.layers.ReLU` from its threshold / max_value arguments."""
    points = [float(config.get("threshold") or 0.0)]
    if config.get("max_value") is not None:
        points.append(float(config["max_value"]))
    return tuple(points)


def layer_kink_points(class_name: str, config: dict[str, Any]) -> Kinks:
    """Kinks of a stand-alone activation layer (ReLU, LeakyReLU, PReLU, ELU, Activation)."""
    if class_name == "ReLU":
        return relu_layer_points(config)
    if class_name in ("LeakyReLU", "PReLU"):
        return (0.0,)
    if class_name == "ELU":  # slope alpha*exp(0) on the left, 1 on the right
        return None if float(config.get("alpha", 1.0)) == 1.0 else (0.0,)
    if class_name == "Activation":
        return kink_points(config.get("activation"))
    return None


def probe_codes(tf: Any, z: Any, kinks: Kinks, fn: Any) -> Any:
    """Piece codes of z: region codes for kink points, the zero pattern of fn(z) for SUPPORT."""
    if kinks == SUPPORT:
        return tf.cast(tf.not_equal(fn(z), 0.0), tf.int8)
    return region_codes(tf, z, kinks)


def region_codes(tf: Any, z: Any, points: tuple[float, ...]) -> Any:
    """Which piece each value lies on: the number of kink points below it (int8)."""
    codes = [tf.cast(z > p, tf.int8) for p in points]
    return tf.add_n(codes) if len(codes) > 1 else codes[0]


def pool_argmax(tf: Any, layer: Any, h: Any) -> Any:
    """Flat index of each max-pool window's winner (channels_last only)."""
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ValueError("kink detection needs channels_last max pooling")
    pool, strides = tuple(layer.pool_size), tuple(layer.strides)
    if h.shape.rank == 3:  # 1-D pooling: add a unit height
        h, pool, strides = tf.expand_dims(h, 1), (1,) + pool, (1,) + strides
    padding = layer.padding.upper()
    _, argmax = tf.nn.max_pool_with_argmax(h, pool, strides, padding,
                                           include_batch_in_index=False)
    return argmax


def sample_changes(tf: Any, plus: Any, minus: Any) -> Any:
    """Per sample (axis 0): how many units are on different pieces in the two evaluations."""
    diff = tf.cast(tf.not_equal(plus, minus), tf.int64)
    return tf.reduce_sum(tf.reshape(diff, (tf.shape(diff)[0], -1)), axis=1)


def count_changes(tf: Any, codes: Any, pairs: int) -> Any:
    """Codes of 2*pairs stacked evaluations (all +eps first, then all -eps), flattened per
    evaluation -> how many units changed piece between the two evaluations of each pair."""
    flat = tf.reshape(codes, (2, pairs, -1))
    return tf.reduce_sum(tf.cast(tf.not_equal(flat[0], flat[1]), tf.int64), axis=1)

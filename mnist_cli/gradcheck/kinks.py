"""Kink detection: which finite differences straddle a non-differentiable point.

ReLU-like activations and max-pooling are piecewise smooth. A central difference whose two
evaluations, at w+eps and w-eps, fall on different pieces measures a blend of two slopes and
gives a false alarm. Rather than guessing from distances ("pre-activation within eps of 0"),
we record exactly which piece every unit is on in both evaluations (the region code of each
pre-activation, the argmax of each pooling window) and flag the entry if any code differs.
"""

from __future__ import annotations

from typing import Any

KINK_POINTS: dict[str, tuple[float, ...]] = {
    "relu": (0.0,),
    "leaky_relu": (0.0,),
    "relu6": (0.0, 6.0),
    "hard_sigmoid": (-3.0, 3.0),
    "hard_silu": (-3.0, 3.0),
    "hard_swish": (-3.0, 3.0),
    "hard_tanh": (-1.0, 1.0),
}
"""Activations (by Keras name) and where their slope jumps."""

MAX_POOLS = {"MaxPooling1D", "MaxPooling2D"}
UNCHECKED_KINKS = {"MaxPooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
                   "GlobalMaxPooling3D"}
"""Layers with kinks this module does not probe (reported as a note)."""


def kink_points(activation: Any) -> tuple[float, ...] | None:
    """Kink locations of a serialised activation, or None if it is smooth (or unknown)."""
    return KINK_POINTS.get(activation) if isinstance(activation, str) else None


def relu_layer_points(config: dict[str, Any]) -> tuple[float, ...]:
    """Kinks of a `keras.layers.ReLU` from its threshold / max_value arguments."""
    points = [float(config.get("threshold") or 0.0)]
    if config.get("max_value") is not None:
        points.append(float(config["max_value"]))
    return tuple(points)


def layer_kink_points(class_name: str, config: dict[str, Any]) -> tuple[float, ...] | None:
    """Kinks of a stand-alone activation layer (ReLU, LeakyReLU, Activation)."""
    if class_name == "ReLU":
        return relu_layer_points(config)
    if class_name == "LeakyReLU":
        return (0.0,)
    if class_name == "Activation":
        return kink_points(config.get("activation"))
    return None


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


def count_changes(tf: Any, codes: Any, pairs: int) -> Any:
    """Codes of 2*pairs stacked evaluations (all +eps first, then all -eps), flattened per
    evaluation -> how many units changed piece between the two evaluations of each pair."""
    flat = tf.reshape(codes, (2, pairs, -1))
    return tf.reduce_sum(tf.cast(tf.not_equal(flat[0], flat[1]), tf.int64), axis=1)

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

from functools import reduce
from typing import Any

import numpy as np

from mnist_cli.backend import import_keras
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


def probe_codes(z: Any, kinks: Kinks, fn: Any) -> Any:
    """Piece codes of z: region codes for kink points, the zero pattern of fn(z) for SUPPORT."""
    ops = import_keras().ops
    if kinks == SUPPORT:
        return ops.cast(ops.not_equal(fn(z), 0.0), "int8")
    return region_codes(z, kinks)


def region_codes(z: Any, points: tuple[float, ...]) -> Any:
    """Which piece each value lies on: the number of kink points below it (int8)."""
    ops = import_keras().ops
    return add_all([ops.cast(ops.greater(z, p), "int8") for p in points])


def add_all(tensors: list) -> Any:
    """The elementwise sum of one or more tensors."""
    return reduce(import_keras().ops.add, tensors)


def sample_changes(plus: Any, minus: Any) -> Any:
    """Per sample (axis 0): how many units are on different pieces in the two evaluations."""
    ops = import_keras().ops
    diff = ops.cast(ops.not_equal(plus, minus), "int64")
    return ops.sum(ops.reshape(diff, (diff.shape[0], -1)), axis=1)


def count_changes(codes: Any, samples: int) -> Any:
    """Codes of 2*pairs stacked evaluations of `samples` samples each (all +eps first, then
    all -eps) -> how many units changed piece between the two evaluations of each pair."""
    ops = import_keras().ops
    flat = ops.reshape(codes, (2, -1, samples * int(np.prod(codes.shape[1:]))))
    return ops.sum(ops.cast(ops.not_equal(flat[0], flat[1]), "int64"), axis=1)

"""Collectives every worker of a multi-worker run calls at the same points: to agree on a
stop (`agreement`, for `signals.agreed`) and to check they resume from the same epoch."""

from __future__ import annotations

from typing import Any

import numpy as np

from mnist_cli.backend import import_tf


def agreement(strategy: Any) -> Any:
    """`agree(flag) -> bool`: whether `flag` is true on any replica of any worker (a
    collective sum; every worker must call it at the same points)."""
    tf = import_tf()

    @tf.function(autograph=False)
    def total(flag: Any) -> Any:
        return strategy.reduce("SUM", strategy.run(tf.identity, args=(flag,)), axis=None)

    return lambda flag: float(total(tf.constant(float(flag)))) > 0


def same_everywhere(strategy: Any, value: int) -> bool:
    """Whether every replica of every worker holds the same `value` (sums of the value and
    of its square over R replicas: equal iff R * sum(v^2) == sum(v)^2)."""
    tf = import_tf()
    both = strategy.reduce("SUM", strategy.run(
        lambda: tf.constant([float(value), float(value) ** 2], tf.float64)), axis=None)
    total, squares = (float(v) for v in np.asarray(both))
    return int(strategy.num_replicas_in_sync) * squares == total ** 2

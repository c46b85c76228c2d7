"""Arrays -> the fused engine's in-memory tensors, pixels scaled on the host or in the graph."""

from __future__ import annotations

from typing import Any

import numpy as np

from mnist_cli.backend import import_tf
from mnist_cli.data.types import Split


def scale_images(x: np.ndarray, scale: bool = True) -> np.ndarray:
    """uint8 images -> float32, in [0, 1] when `scale` (unscaled pixels cost ~35 points)."""
    x = x.astype(np.float32)
    return x / 255.0 if scale else x


FLOAT32_BUDGET_BYTES = 1 << 30
"""Above this, the fused engine keeps images as uint8 on the device and scales each batch in
the graph (4x less memory; the result is bit-identical, the division is the same op)."""


def storage_dtype(split: Split, budget: int | None = None) -> str:
    """`float32` when the scaled images fit in `budget` bytes (FLOAT32_BUDGET_BYTES), else
    `uint8` (only uint8 images can stay as they are)."""
    limit = FLOAT32_BUDGET_BYTES if budget is None else budget
    fits = split.x.size * 4 <= limit
    return "float32" if fits or split.x.dtype != np.uint8 else "uint8"


def to_tensors(split: Split, scale: bool = True, dtype: str = "float32") -> tuple[Any, Any]:
    """(images, labels) as in-memory tensors for the fused engine: float32 already scaled, or
    uint8 as loaded (`prepare_batch` scales those in the graph); labels int32 (or None)."""
    tf = import_tf()
    x = tf.constant(scale_images(split.x, scale) if dtype == "float32" else split.x)
    y = None if split.y is None else tf.constant(split.y.astype(np.int32))
    return x, y


def prepare_batch(x: Any, scale: bool = True) -> Any:
    """In-graph twin of `scale_images` for a batch gathered from `to_tensors` (float32
    passes): a lookup in `scale_images` of all 256 values, so bit-identical to it (a graph
    division by 255 can round differently)."""
    tf = import_tf()
    if x.dtype == tf.float32:
        return x
    table = tf.constant(scale_images(np.arange(256, dtype=np.uint8), scale))
    return tf.gather(table, tf.cast(x, tf.int32))

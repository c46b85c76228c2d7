"""Mixed precision: the Keras dtype policy a model is built under, and nothing more.

The policy is global in Keras, so it is set only while the layers are constructed (each
layer keeps the policy it was built with) and restored at once: later models in the same
process (the Python API, tests, gradcheck) keep float32. Keras's `compile` wraps the
optimizer in a `LossScaleOptimizer` for `mixed_float16` (dynamic loss scaling); bfloat16
has float32's exponent range and needs none.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

from mnist_cli.backend import import_jax, import_keras, import_tf, is_jax

Precision = Literal["float32", "mixed_float16", "mixed_bfloat16"]
PRECISIONS: tuple[str, ...] = ("float32", "mixed_float16", "mixed_bfloat16")


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Build layers under `precision`'s Keras policy; the previous global policy comes back
    afterwards, even on error."""
    keras = import_keras()
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def output_layer_kwargs(precision: str, kwargs: dict) -> dict:
    """The last layer computes in float32 under mixed policies, so logits, softmax and the
    loss keep float32's range (a float16 softmax/cross-entropy overflows and underflows)."""
    if precision == "float32" or "dtype" in kwargs:
        return kwargs
    return {**kwargs, "dtype": "float32"}


def accelerated() -> bool:
    """True when a GPU or TPU is visible (where 16-bit math is fast); asked of JAX under the
    JAX backend (TensorFlow is not imported for it)."""
    if is_jax():
        return any(d.platform != "cpu" for d in import_jax().devices())
    tf = import_tf()
    return bool(tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))


def precision_notes(precision: str) -> list[str]:
    """A note for mixed precision on a CPU-only machine: allowed, correct, but slow."""
    if precision == "float32" or accelerated():
        return []
    return [f"--precision {precision} on CPU: results are valid but training is slower than "
            "float32 here (CPUs emulate most 16-bit math); it pays off on GPUs and TPUs"]


def loss_scaling(optimizer: object) -> bool:
    """Whether the optimizer scales the loss (mixed_float16). Such an optimizer expects some
    non-finite gradients and skips those steps itself, so the training loops' divergence checks
    look at the loss alone under it."""
    return type(optimizer).__name__ == "LossScaleOptimizer"


def precision_record(model: object, precision: str) -> dict[str, object]:
    """metrics.json's `precision`: the policy, whether losses were scaled, the output dtype."""
    optimizer = getattr(model, "optimizer", None)
    last = model.layers[-1] if getattr(model, "layers", None) else None
    return {
        "policy": precision,
        "loss_scaling": loss_scaling(optimizer),
        "output_dtype": str(getattr(last, "compute_dtype", "float32")),
    }

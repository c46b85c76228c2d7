"""What the JAX graphs of the fused engine share: a split held as device arrays (on one device,
or replicated over a DataParallel mesh) with its running loss and accuracy sums, the model's
variables as arrays and back, and the loss and metrics of a batch whose padding rows are
masked out (see `fused_jax` for why batches are padded).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnist_cli.backend import import_jax
from mnist_cli.data.pipeline import scale_images
from mnist_cli.data.types import Split

PER_EXAMPLE_LAYERS = frozenset({
    "InputLayer", "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv2DTranspose",
    "SeparableConv2D", "DepthwiseConv2D", "MaxPooling1D", "MaxPooling2D", "MaxPool2D",
    "AveragePooling1D", "AveragePooling2D", "AvgPool2D", "GlobalAveragePooling2D",
    "GlobalMaxPooling2D", "Flatten", "Reshape", "Activation", "ReLU", "LeakyReLU", "ELU",
    "PReLU", "Softmax", "Dropout", "SpatialDropout2D", "GaussianDropout", "GaussianNoise",
    "AlphaDropout", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "Rescaling", "UpSampling2D", "ZeroPadding2D",
})
"""Layers whose training-mode output for an example depends on that example alone."""

def per_example(model: Any) -> bool:
    """Whether padding a batch with masked rows leaves the real rows' loss and gradients as
    they are: only per-example layers, no activity regularizer (its penalty sees every row)."""
    return all(type(layer).__name__ in PER_EXAMPLE_LAYERS
               and getattr(layer, "activity_regularizer", None) is None
               for layer in model.layers)


def model_state(model: Any, optimizer: bool = True) -> tuple[list[Any], ...]:
    """The Keras variables' current values: trainable, non-trainable (, optimizer)."""
    state = ([v.value for v in model.trainable_variables],
             [v.value for v in model.non_trainable_variables])
    return (*state, [v.value for v in model.optimizer.variables]) if optimizer else state


def write_state(model: Any, state: tuple[list[Any], ...]) -> None:
    """Put a call's resulting state back into the Keras variables."""
    groups = (model.trainable_variables, model.non_trainable_variables,
              model.optimizer.variables)
    for variables, values in zip(groups, state, strict=False):
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)


def prepare(x: Any, table: Any) -> Any:
    """uint8 images -> float32 through `scale_images`'s own 256-value table (bit-identical)."""
    return x if table is None else table[x.astype("int32")]


def mean_loss(model: Any, y: Any, out: Any, mask: Any) -> Any:
    """The compiled loss, a mean over the batch (over its unmasked rows when `mask`)."""
    jnp = import_jax().numpy
    if mask is None:
        return model.loss(y, out)
    per_row = model.loss.call(y, out.astype("float32"))
    return jnp.sum(jnp.where(mask, per_row, 0.0)) / jnp.maximum(mask.sum(), 1)


def accumulate(sums: tuple[Any, Any, Any], loss: Any, out: Any, y: Any,
               mask: Any = None) -> tuple[Any, Any, Any]:
    """Add one batch's mean loss x size, correct count and size (unmasked rows only)."""
    jnp = import_jax().numpy
    hits = jnp.argmax(out, -1).astype(jnp.int32) == y
    if mask is not None:
        hits = hits & mask
    size = jnp.int32(y.shape[0]) if mask is None else mask.sum(dtype=jnp.int32)
    return (sums[0] + loss.astype(jnp.float32) * size, sums[1] + hits.sum(dtype=jnp.int32),
            sums[2] + size)


class SplitGraph:
    """One split held as device arrays with a running (loss sum, correct, count) accumulator;
    `padded`: the images are extended to whole batches (the rows past `n` masked)."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str,
                 padded: bool) -> None:
        self.jax = import_jax()
        self.model, self.n, self.batch, self.padded = model, len(split), int(batch), padded
        self.steps = -(-self.n // self.batch)
        self.full = self.steps if padded else self.n // self.batch  # steps in the loop
        # (replicated, batch-split) shardings when the variables are replicated over more
        # than one device (DataParallel), else None: one device, jax's default.
        mesh = getattr(getattr(model.trainable_variables[0].value, "sharding", None), "mesh",
                       None)
        self.replicated = self.split_batch = None
        if mesh is not None and mesh.size > 1:
            named, spec = self.jax.sharding.NamedSharding, self.jax.sharding.PartitionSpec
            self.replicated = named(mesh, spec())
            self.split_batch = named(mesh, spec(mesh.axis_names[0]))
        x = scale_images(split.x, scale) if dtype == "float32" else split.x
        self.table = (None if dtype == "float32" else
                      self.put(scale_images(np.arange(256, dtype=np.uint8), scale)))
        y = None if split.y is None else split.y.astype(np.int32)
        if padded:
            extra = self.steps * self.batch - self.n
            x = np.concatenate([x, np.zeros((extra, *x.shape[1:]), x.dtype)])
            y = None if y is None else np.concatenate([y, np.zeros(extra, np.int32)])
        self.x, self.y = self.put(x), None if y is None else self.put(y)
        self.zeros = (self.put(np.zeros((), np.float32)), self.put(np.zeros((), np.int32)),
                      self.put(np.zeros((), np.int32)))  # immutable: reused by every reset
        self.sums = self.zeros

    def put(self, array: np.ndarray) -> Any:
        """On the default device, or replicated over the mesh."""
        return self.jax.device_put(array, self.replicated)

    def constrain(self, x: Any) -> Any:
        """Split a batch over the mesh's batch axis (data parallel); as is on one device."""
        if self.split_batch is None or x.shape[0] % self.split_batch.mesh.size:
            return x
        return self.jax.lax.with_sharding_constraint(x, self.split_batch)

    def mask(self, low: Any, size: int) -> Any:
        """Which rows of the batch starting at `low` are real (None: all, unpadded)."""
        return (low + self.jax.numpy.arange(size) < self.n) if self.padded else None

    def reset(self) -> None:
        self.sums = self.zeros

    def means(self) -> tuple[float, float]:
        """(mean loss, accuracy) of the steps run since `reset`."""
        loss_sum, correct, count = (float(v) for v in self.jax.device_get(self.sums))
        return loss_sum / max(count, 1.0), correct / max(count, 1.0)

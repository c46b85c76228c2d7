"""The fused engine's graph side: many training or evaluation steps per `tf.function` call.

On small models `model.fit`'s time goes to per-step overhead (the tf.data iterator, Python
callbacks, one graph call per step). Here the data are in-memory tensors, an epoch's order is
a stateless shuffle seeded by (seed, epoch), each batch is a `tf.gather` of that order, and
`for i in tf.range(count)` runs `count` steps in one call. Loss sums and correct counts
accumulate in variables across calls, so an epoch's metrics do not depend on how it was cut
into calls; a non-finite loss or gradient ends the call at that step before its update is
applied.
The loops are explicit `tf.while_loop`/`tf.cond` without autograph: the same graph traces
in about half the time (tracing dominates a short cold run).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from mnist_cli.backend import import_tf
from mnist_cli.data.pipeline import prepare_batch, to_tensors
from mnist_cli.data.types import Split
from mnist_cli.modeling.precision import loss_scaling


@contextlib.contextmanager
def placement(model: Any) -> Iterator[None]:
    """The model's strategy's scope, and its device for one-device."""
    tf = import_tf()
    strategy = model.distribute_strategy
    with strategy.scope(), contextlib.ExitStack() as stack:
        if type(strategy).__name__ == "OneDeviceStrategy":
            stack.enter_context(tf.device(strategy.extended.worker_devices[0]))
        yield


def batch_loss(model: Any, y: Any, out: Any) -> Any:
    """The compiled loss (mean over the batch) plus regularization, as Keras's train_step."""
    tf = import_tf()
    loss = model.loss(y, out)
    extra = model.losses
    return loss + tf.add_n(extra) if extra else loss


def accumulate(sums: Any, loss: Any, out: Any, y: Any) -> None:
    """Add one batch's loss x size, correct count and size (float64: exact counts)."""
    tf = import_tf()
    size = tf.cast(tf.shape(y)[0], tf.float64)
    hits = tf.equal(tf.argmax(out, -1, output_type=tf.int32), y)
    sums.assign_add(tf.stack([tf.cast(loss, tf.float64) * size,
                              tf.reduce_sum(tf.cast(hits, tf.float64)), size]))


class SplitGraph:
    """One split held as tensors with a running (loss sum, correct, count) accumulator."""

    def __init__(self, split: Split, batch: int, scale: bool, dtype: str) -> None:
        tf = import_tf()
        self.x, self.y = to_tensors(split, scale, dtype)
        self.n, self.batch, self.scale = len(split), int(batch), scale
        self.steps = -(-self.n // self.batch)
        self.sums = tf.Variable(tf.zeros([3], tf.float64), trainable=False)

    def compile(self, model: Any, steps: Any) -> Any:
        """`steps` as a graph function run in the model's strategy's replica context (the
        optimizer's update needs one under one-device)."""
        tf, strategy = import_tf(), model.distribute_strategy
        return tf.function(lambda start, count: strategy.run(steps, args=(start, count)),
                           autograph=False)

    def bounds(self, step: Any) -> tuple[Any, Any]:
        tf = import_tf()
        low = step * self.batch
        return low, tf.minimum(low + self.batch, self.n)

    def reset(self) -> None:
        self.sums.assign(self.sums * 0)

    def call(self, start: int, count: int) -> Any:
        """`run` steps [start, start + count); the result as NumPy (waits for the call)."""
        tf = import_tf()
        result = self.run(tf.constant(start, tf.int32), tf.constant(count, tf.int32))
        return tf.nest.map_structure(np.asarray, result)

    def means(self) -> tuple[float, float]:
        """(mean loss, accuracy) of the steps run since `reset`."""
        loss_sum, correct, count = (float(v) for v in self.sums.numpy())
        return loss_sum / max(count, 1.0), correct / max(count, 1.0)


class TrainGraph(SplitGraph):
    """Training steps over a per-epoch shuffled order; `run(start, count)` -> (bad step, loss,
    gradients finite) where bad step is -1 when every loss and gradient was finite. A bad step's
    update is not applied."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str) -> None:
        super().__init__(split, batch, scale, dtype)
        tf = import_tf()
        self.model = model
        self.order = tf.Variable(tf.range(self.n, dtype=tf.int32), trainable=False)
        self.run = self.compile(model, self._steps)

    def shuffle(self, seed: int, epoch: int) -> None:
        """This epoch's order: a function of (seed, epoch) alone, so resume stays exact."""
        tf = import_tf()
        key = tf.constant([seed, epoch], tf.int64)
        self.order.assign(tf.random.experimental.stateless_shuffle(
            tf.range(self.n, dtype=tf.int32), seed=key))

    def _steps(self, start: Any, count: Any) -> tuple[Any, Any, Any]:
        tf = import_tf()
        model, optimizer = self.model, self.model.optimizer
        variables = model.trainable_variables
        check_grads = not loss_scaling(optimizer)

        def body(i: Any, bad: Any, bad_loss: Any, grads_ok: Any) -> tuple[Any, ...]:
            low, high = self.bounds(start + i)
            idx = self.order[low:high]
            x, y = prepare_batch(tf.gather(self.x, idx), self.scale), tf.gather(self.y, idx)
            with tf.GradientTape() as tape:
                out = model(x, training=True)
                loss = batch_loss(model, y, out)
                scaled = optimizer.scale_loss(loss)
            grads = tape.gradient(scaled, variables)
            finite_grads = all_finite(grads) if check_grads else tf.constant(True)
            finite = tf.logical_and(tf.math.is_finite(loss), finite_grads)

            def apply() -> tuple[Any, Any, Any]:
                optimizer.apply_gradients(zip(grads, variables, strict=True))
                accumulate(self.sums, loss, out, y)
                return tf.constant(-1), tf.constant(0.0), tf.constant(True)

            bad, bad_loss, grads_ok = tf.cond(
                finite, apply, lambda: (start + i, tf.cast(loss, tf.float32), finite_grads))
            return i + 1, bad, bad_loss, grads_ok

        _, bad, bad_loss, grads_ok = tf.while_loop(
            lambda i, bad, *_: tf.logical_and(i < count, bad < 0), body,
            (tf.constant(0), tf.constant(-1), tf.constant(0.0), tf.constant(True)))
        return bad, bad_loss, grads_ok


def all_finite(grads: list[Any]) -> Any:
    """Whether every gradient entry is finite. The loss alone is not enough: how an inf input
    propagates into the loss depends on the CPU's kernels (AVX-512 vs AVX2), but the weight
    gradient of an inf input is non-finite on every CPU, so the step is caught either way.
    (Under loss scaling, non-finite gradients are expected and the optimizer skips them.)"""
    tf = import_tf()
    flags = [tf.reduce_all(tf.math.is_finite(getattr(g, "values", g)))
             for g in grads if g is not None]
    return tf.reduce_all(tf.stack(flags)) if flags else tf.constant(True)


class EvalGraph(SplitGraph):
    """Evaluation steps in order (`training=False`): `run(start, count)` accumulates."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str) -> None:
        super().__init__(split, batch, scale, dtype)
        self.model = model
        self.run = self.compile(model, self._steps)

    def _steps(self, start: Any, count: Any) -> Any:
        tf = import_tf()

        def body(i: Any) -> Any:
            low, high = self.bounds(start + i)
            x, y = prepare_batch(self.x[low:high], self.scale), self.y[low:high]
            out = self.model(x, training=False)
            accumulate(self.sums, batch_loss(self.model, y, out), out, y)
            return i + 1

        return tf.while_loop(lambda i: i < count, body, (tf.constant(0),))


class PredictGraph(SplitGraph):
    """Model outputs in order (`training=False`): `run(start, count)` -> those steps' rows."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str) -> None:
        super().__init__(Split(split.x, None), batch, scale, dtype)
        self.model = model
        self.run = self.compile(model, self._steps)

    def _steps(self, start: Any, count: Any) -> Any:
        tf = import_tf()

        def body(i: Any, parts: Any) -> tuple[Any, Any]:
            low, high = self.bounds(start + i)
            out = self.model(prepare_batch(self.x[low:high], self.scale), training=False)
            return i + 1, parts.write(i, tf.cast(out, tf.float32))

        parts = tf.TensorArray(tf.float32, size=count, infer_shape=False)
        _, parts = tf.while_loop(lambda i, _: i < count, body, (tf.constant(0), parts))
        return parts.concat()

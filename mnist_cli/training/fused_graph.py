"""The fused engine's TensorFlow side: many steps per `tf.function` call, under any strategy.

On small models `model.fit`'s time goes to per-step overhead (the tf.data iterator, Python
callbacks, one graph call per step). Here the data are in-memory tensors, an epoch's order is
`epochs.epoch_order(seed, epoch)` (a host permutation, the same on every worker and for every
strategy), each batch is a `tf.gather` of that order, and a `tf.while_loop` runs `count` steps
in one call. Each step is one `strategy.run`: replica r of R takes rows [r*b/R, (r+1)*b/R) of
the global batch of b rows, its loss is its share of the global mean (sum of the model's
per-example loss / b), and the optimizer all-reduces (sums) the gradients, so R replicas take
the step one device would. Every replica's finiteness flags are summed across replicas before
the `tf.cond` that applies the update: a non-finite loss or gradient on any replica stops every
replica at that step with nothing applied. Loss sums and correct counts are reduced the same
way into variables, so an epoch's metrics do not depend on how it was cut into calls. No
autograph: explicit `tf.while_loop`/`tf.cond` trace in about half the time.

Where XLA wins (`xla_wins`: one replica on the CPU, float32, only the layers of `XLA_LAYERS`)
the same loop is one XLA program with static batch shapes: a loop over the full batches, then
the last, partial batch (as the JAX engine does for models with batch statistics).
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
        if isinstance(strategy, tf.distribute.OneDeviceStrategy):
            stack.enter_context(tf.device(strategy.extended.worker_devices[0]))
        yield


# Measured on a 2-core CPU (op determinism on): an MLP trains ~2x faster under XLA, with
# BatchNormalization ~2.5x; Dropout's masks ~2.5x slower, convolutions ~6x slower, and
# MaxPooling's gradient is refused under op determinism. Other layers keep the plain graph.
XLA_LAYERS = frozenset({"Flatten", "Reshape", "Dense", "Activation", "ReLU",
                        "LeakyReLU", "ELU", "Softmax", "BatchNormalization"})


def xla_wins(model: Any, strategy: Any) -> bool:
    """Whether training steps are XLA-compiled: TensorFlow's default or one-device strategy
    on a CPU (no GPU visible), float32, every layer in XLA_LAYERS."""
    from mnist_cli.training.records import is_tf_default

    tf = import_tf()
    one = is_tf_default(strategy) or isinstance(strategy, tf.distribute.OneDeviceStrategy)
    cpu = not tf.config.list_logical_devices("GPU") and not tf.config.list_logical_devices("TPU")
    layers = {type(layer).__name__ for layer in model.layers}
    return one and cpu and model.dtype_policy.name == "float32" and layers <= XLA_LAYERS


def replica_rows(low: Any, high: Any, replicas: int) -> tuple[Any, Any]:
    """This replica's rows [a, b) of the global batch [low, high): an even split."""
    tf = import_tf()
    rid = tf.distribute.get_replica_context().replica_id_in_sync_group
    size = high - low
    first = low + (size * rid) // replicas
    return first, low + (size * (rid + 1)) // replicas


def example_losses(model: Any, y: Any, out: Any) -> Any:
    """The compiled loss per example (unreduced, float32)."""
    tf = import_tf()
    return tf.cast(model.loss.call(y, tf.cast(out, tf.float32)), tf.float32)


def regularization(model: Any, replicas: int) -> Any:
    """The layers' regularization losses, this replica's share (gradients are summed)."""
    tf = import_tf()
    extra = model.losses
    return tf.add_n(extra) / replicas if extra else tf.constant(0.0)


def hits(out: Any, y: Any) -> Any:
    tf = import_tf()
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(out, -1, output_type=tf.int32), y),
                                 tf.float64))


def dropped_rows(n: int, batch: int, replicas: int) -> int:
    """Rows of each epoch's last batch left out: all of them when fewer than the replicas (a
    replica without rows would break batch statistics), else none."""
    tail = n % batch
    return tail if tail < replicas else 0


class SplitGraph:
    """One split held as tensors with a running (loss sum, correct, count) accumulator."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str) -> None:
        tf = import_tf()
        self.model, self.strategy = model, model.distribute_strategy
        self.replicas = int(self.strategy.num_replicas_in_sync)
        self.x, self.y = to_tensors(split, scale, dtype)
        self.n, self.batch, self.scale = len(split), int(batch), scale
        self.steps = -(-self.n // self.batch)
        self.sums = tf.Variable(tf.zeros([3], tf.float64), trainable=False)

    def bounds(self, step: Any, size: int | None = None) -> tuple[Any, Any]:
        """Rows [low, high) of `step`; `size`: its row count when static (XLA)."""
        tf = import_tf()
        low = step * self.batch
        return low, low + size if size else tf.minimum(low + self.batch, self.n)

    def total(self, value: Any) -> Any:
        """Sum a per-replica value over every replica (of every worker)."""
        return self.strategy.reduce("SUM", value, axis=None)

    def add(self, loss_sum: Any, correct: Any, count: Any) -> None:
        """Add one step's totals (already summed over the replicas) to the accumulator."""
        tf = import_tf()
        self.sums.assign_add(tf.stack([loss_sum, correct, tf.cast(count, tf.float64)]))

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
    """Training steps over a per-epoch order; `run(start, count)` -> (bad step, loss, gradients
    finite) where bad step is -1 when every replica's loss and gradients were finite. A bad
    step's update is applied on no replica."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str) -> None:
        super().__init__(model, split, batch, scale, dtype)
        tf = import_tf()
        self.order = tf.Variable(tf.range(self.n, dtype=tf.int32), trainable=False)
        self.steps -= bool(dropped_rows(self.n, self.batch, self.replicas))
        self.run = tf.function(self._steps, autograph=False)

    def use_xla(self) -> None:
        """Run the steps as one XLA program (one replica: see `xla_wins`) in which the full
        batches and the last, partial one each have a static size."""
        self.run = import_tf().function(self._xla_steps, autograph=False, jit_compile=True)

    def _xla_steps(self, start: Any, count: Any) -> tuple[Any, Any, Any]:
        tf = import_tf()
        full = tf.minimum(count, tf.maximum(self.n // self.batch - start, 0))
        result = self._steps(start, full, self.batch)
        tail = self.n % self.batch
        if not tail:
            return result
        return tf.cond(tf.logical_and(count > full, result[0] < 0),
                       lambda: self._steps(start + full, count - full, tail), lambda: result)

    def shuffle(self, seed: int, epoch: int) -> None:
        """This epoch's order: `epoch_order(seed, epoch)`, so resume stays exact."""
        from mnist_cli.training.epochs import epoch_order

        self.order.assign(epoch_order(seed, epoch, self.n))

    def _replica(self, low: Any, high: Any, size: int | None) -> tuple[Any, ...]:
        """One replica's share of the step: (gradients, loss sum, correct, loss bad, gradients
        bad), the flags 1.0/0.0 so that their sum over replicas counts the bad ones. `size`:
        the rows of one replica's batch when static (a gather: a slice would make XLA
        compile again for every `start`)."""
        tf, model = import_tf(), self.model
        first, last = replica_rows(low, high, self.replicas)
        idx = tf.gather(self.order, first + tf.range(size)) if size else self.order[first:last]
        x, y = prepare_batch(tf.gather(self.x, idx), self.scale), tf.gather(self.y, idx)
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            per = example_losses(model, y, out)
            loss = tf.reduce_sum(per) / tf.cast(high - low, tf.float32)
            loss += regularization(model, self.replicas)
            scaled = model.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, model.trainable_variables)
        grads_ok = all_finite(grads) if not loss_scaling(model.optimizer) else tf.constant(True)
        flags = [tf.cast(tf.logical_not(ok), tf.float32)
                 for ok in (tf.math.is_finite(loss), grads_ok)]
        return (grads, tf.cast(tf.reduce_sum(per), tf.float64), hits(out, y), *flags)

    def _apply(self, grads: list[Any]) -> None:
        model = self.model
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    def sync_state(self) -> None:
        """Set every replica's copy of the float non-trainable variables (BatchNorm's moving
        statistics) to their mean over the replicas. Keras creates them without aggregation,
        so each replica would keep statistics of its own rows: validation would then mix
        copies, the saved model (the first copy) would differ from what was validated, and a
        resume (one restored value for all) would not continue the run it stopped."""
        tf, strategy = import_tf(), self.strategy
        shared = [v for v in self.model.non_trainable_variables
                  if v.dtype in ("float16", "bfloat16", "float32", "float64")]
        if self.replicas == 1 or not shared:
            return
        local = strategy.run(lambda: [tf.identity(v.value) for v in shared])
        for variable, value in zip(shared, local, strict=True):
            variable.value.assign(strategy.reduce("MEAN", value, axis=None))

    def _steps(self, start: Any, count: Any, size: int | None = None) -> tuple[Any, Any, Any]:
        tf, strategy = import_tf(), self.strategy

        def body(i: Any, bad: Any, bad_loss: Any, grads_ok: Any) -> tuple[Any, ...]:
            low, high = self.bounds(start + i, size)
            grads, loss_sum, correct, loss_bad, grads_bad = strategy.run(
                self._replica, args=(low, high, size))
            loss_ok, grads_ok = self.total(loss_bad) == 0, self.total(grads_bad) == 0
            loss_sum, correct = self.total(loss_sum), self.total(correct)
            mean = tf.cast(loss_sum / tf.cast(high - low, tf.float64), tf.float32)

            def apply() -> tuple[Any, Any, Any]:
                strategy.run(self._apply, args=(grads,))
                self.sync_state()
                self.add(loss_sum, correct, high - low)
                return tf.constant(-1), tf.constant(0.0), tf.constant(True)

            bad, bad_loss, grads_ok = tf.cond(tf.logical_and(loss_ok, grads_ok), apply,
                                              lambda: (start + i, mean, grads_ok))
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
    """Evaluation steps in order (`training=False`), split over the replicas like training:
    `run(start, count)` accumulates."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str) -> None:
        super().__init__(model, split, batch, scale, dtype)
        self.run = import_tf().function(self._steps, autograph=False)

    def _replica(self, low: Any, high: Any) -> tuple[Any, Any]:
        tf = import_tf()
        first, last = replica_rows(low, high, self.replicas)
        x, y = prepare_batch(self.x[first:last], self.scale), self.y[first:last]
        out = self.model(x, training=False)
        per = example_losses(self.model, y, out)
        extra = regularization(self.model, self.replicas) * tf.cast(high - low, tf.float32)
        return tf.cast(tf.reduce_sum(per) + extra, tf.float64), hits(out, y)

    def _steps(self, start: Any, count: Any) -> Any:
        tf = import_tf()

        def body(i: Any) -> Any:
            low, high = self.bounds(start + i)
            loss_sum, correct = self.strategy.run(self._replica, args=(low, high))
            self.add(self.total(loss_sum), self.total(correct), high - low)
            return i + 1

        return tf.while_loop(lambda i: i < count, body, (tf.constant(0),))


class PredictGraph(SplitGraph):
    """Model outputs in order (`training=False`), computed in this process from the
    variables' values (a replicated variable reads its first copy, identical to the others):
    `run(start, count)` -> those steps' rows. The one predict path of TensorFlow runs:
    their own test score, `evaluate` and `predict`, under any strategy."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str) -> None:
        super().__init__(model, Split(split.x, None), batch, scale, dtype)
        self.run = import_tf().function(self._steps, autograph=False)

    def _steps(self, start: Any, count: Any) -> Any:
        tf = import_tf()

        def body(i: Any, parts: Any) -> tuple[Any, Any]:
            low, high = self.bounds(start + i)
            out = self.model(prepare_batch(self.x[low:high], self.scale), training=False)
            return i + 1, parts.write(i, tf.cast(out, tf.float32))

        parts = tf.TensorArray(tf.float32, size=count, infer_shape=False)
        _, parts = tf.while_loop(lambda i, _: i < count, body, (tf.constant(0), parts))
        return parts.concat()

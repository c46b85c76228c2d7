"""The fused engine's JAX side: many training or evaluation steps per jitted call.

The JAX twin of `fused_graph`, with the same interface (`call(step, count)`, `reset`,
`means`, `shuffle`) so `fused` drives both. Training is Keras 3's stateless API
(`model.stateless_call`, `optimizer.stateless_apply`): the trainable, non-trainable
(BatchNorm statistics, Dropout's seed state) and optimizer variables are the state a jitted
`lax.while_loop` carries over `count` steps, each batch gathered from a permutation that is a
function of (seed, epoch) alone, so resume stays exact. Loss sums and correct counts
accumulate on the device across calls (an epoch's metrics do not depend on how it was cut
into calls). A step whose loss or gradients are non-finite applies nothing (`lax.cond`) and
ends the call, naming itself. After each call the state goes back into the Keras variables,
so callbacks (backup, early stopping, guards) see the model as `model.fit` would leave it.

Shapes are static under `jit`, and compiling is most of a short run's cost, so each loop
compiles once for any call size and the epoch's last, partial batch is padded to a whole one
with the padding masked out of the loss, metrics and gradients. That is exact when every
layer treats examples independently (`per_example`); a model with batch statistics
(BatchNormalization) or activity regularizers instead runs its partial batch as its own small
jitted step. Under `keras.distribution.DataParallel` (variables replicated over a device
mesh) each batch is constrained to be split over the mesh's batch axis and XLA inserts the
gradient all-reduce.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from mnist_cli.backend import import_jax
from mnist_cli.data.types import Split
from mnist_cli.modeling.precision import loss_scaling
from mnist_cli.training.epochs import epoch_order
from mnist_cli.training.jax_state import (
    SplitGraph,
    accumulate,
    mean_loss,
    model_state,
    per_example,
    prepare,
    write_state,
)

CONVOLUTIONS = frozenset({"Conv1D", "Conv2D", "Conv2DTranspose", "SeparableConv2D",
                          "DepthwiseConv2D"})


# `placement(model)`: nothing to enter, the graphs follow the mesh the variables live on.
placement = contextlib.nullcontext


def train_step(model: Any) -> Any:
    """(state, sums, x, y, mask) -> (state, sums, finite, loss, gradients finite); a
    non-finite step returns the state and sums it was given (nothing applied)."""
    from keras import StatelessScope

    jax = import_jax()
    jnp, optimizer = jax.numpy, model.optimizer
    check_grads = not loss_scaling(optimizer)

    def loss_fn(trainable: Any, non_trainable: Any, opt_vars: Any, x: Any, y: Any,
                mask: Any) -> Any:
        """-> (scaled loss, (loss, out, new non_trainable)): Keras's JAX
        `compute_loss_and_updates`, regularization included."""
        out, non_trainable, losses = model.stateless_call(
            trainable, non_trainable, x, training=True, return_losses=True)
        loss = mean_loss(model, y, out, mask)
        if losses:
            loss = loss + sum(losses)
        with StatelessScope(state_mapping=list(zip(optimizer.variables, opt_vars,
                                                   strict=True))):
            scaled = optimizer.scale_loss(loss)  # loss scaling (mixed_float16) or as is
        return scaled, (loss, out, non_trainable)

    grad = jax.value_and_grad(loss_fn, has_aux=True)

    def step(state: Any, sums: Any, x: Any, y: Any, mask: Any) -> Any:
        trainable, non_trainable, opt_vars = state
        (_, (loss, out, new_non_trainable)), grads = grad(trainable, non_trainable, opt_vars,
                                                          x, y, mask)
        # Every gradient entry finite (`fused_graph.all_finite`: the loss alone is not enough).
        flags = [jnp.isfinite(g).all() for g in grads if g is not None] if check_grads else []
        grads_ok = jnp.stack(flags).all() if flags else jnp.asarray(True)
        finite = jnp.isfinite(loss) & grads_ok

        def apply(_: Any) -> Any:
            new_trainable, new_opt = optimizer.stateless_apply(opt_vars, grads, trainable)
            return ((new_trainable, new_non_trainable, new_opt),
                    accumulate(sums, loss, out, y, mask))

        state, sums = jax.lax.cond(finite, apply, lambda _: (state, sums), None)
        return state, sums, finite, loss.astype(jnp.float32), grads_ok

    return step


def loops_slowly(model: Any) -> bool:
    """Whether to dispatch one jitted step at a time instead of looping in the program: on
    CPU, XLA runs convolutions ~1.6x slower inside a compiled loop than as a program of its
    own (measured here on the shipped CNN), and a convolution step is long enough (>~5 ms)
    that a dispatch per step costs nothing. Dense-only models keep the loop (their ~0.3 ms
    steps would pay a ~0.1 ms dispatch each)."""
    jax = import_jax()
    return jax.default_backend() == "cpu" and any(
        type(layer).__name__ in CONVOLUTIONS for layer in model.layers)


class TrainGraph(SplitGraph):
    """Training steps over a per-epoch permutation; `call(start, count)` -> (bad step, loss,
    gradients finite), bad step -1 when every loss and gradient was finite."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str) -> None:
        super().__init__(model, split, batch, scale, dtype, padded=per_example(model))
        step = train_step(model)
        self.stepwise = loops_slowly(model)
        self.loop = self.jax.jit(self._one(step, self.batch) if self.stepwise else
                                 self._loop(step))
        self.tail = None if self.full == self.steps else self.jax.jit(
            self._one(step, self.n - self.full * self.batch))

    def shuffle(self, seed: int, epoch: int) -> None:
        """This epoch's order (`epoch_order`), padded up to whole batches with copies of its
        first rows when the padding is masked."""
        order = epoch_order(seed, epoch, self.n)
        if self.padded:
            order = np.resize(order, self.steps * self.batch)
        self.order = self.put(order)

    def batch_at(self, data: Any, low: Any, size: int) -> tuple[Any, Any, Any]:
        """Batch [low, low + size) of this epoch's order and its mask; data: (order, images,
        labels), passed to the jitted functions as arguments (not baked in as constants).
        Padding rows are zeroed: even an inf pixel there cannot reach a gradient (0 x inf)."""
        order, x, y = data
        idx = self.jax.lax.dynamic_slice_in_dim(order, low, size)
        x, mask = prepare(x[idx], self.table), self.mask(low, size)
        if mask is not None:
            x = self.jax.numpy.where(mask.reshape((-1,) + (1,) * (x.ndim - 1)), x, 0)
        return self.constrain(x), y[idx], mask

    def _one(self, step: Any, size: int) -> Any:
        """One step of `size` rows at batch `index`: each step when `stepwise` (see
        `loops_slowly`), and the partial last batch of a model that is not `per_example`."""

        def run(state: Any, sums: Any, data: Any, index: Any) -> Any:
            state, sums, finite, loss, grads_ok = step(
                state, sums, *self.batch_at(data, index * self.batch, size))
            return state, sums, self.jax.numpy.where(finite, -1, index), loss, grads_ok

        return run

    def _loop(self, step: Any) -> Any:
        jax, one = self.jax, self._one(step, self.batch)

        def run(state: Any, sums: Any, data: Any, start: Any, count: Any) -> Any:
            def body(carry: Any) -> Any:
                i, state, sums, _, _, _ = carry
                return i + 1, *one(state, sums, data, start + i)

            carry = (jax.numpy.int32(0), state, sums, jax.numpy.int32(-1),
                     jax.numpy.float32(0), jax.numpy.asarray(True))
            _, state, sums, bad, loss, grads_ok = jax.lax.while_loop(
                lambda c: (c[0] < count) & (c[3] < 0), body, carry)
            return state, sums, bad, loss, grads_ok

        return run

    def call(self, start: int, count: int) -> tuple[int, float, bool]:
        """Steps [start, start + count): the full batches in one call of the loop (one call
        per step when `stepwise`), then the partial one if due; a call that diverged ends it."""
        stop = min(start + count, self.full)
        if self.stepwise:
            calls = [(self.loop, (index,)) for index in range(start, stop)]
        else:
            calls = [(self.loop, (start, stop - start))] if start < stop else []
        if self.tail is not None and start + count > self.full:
            calls.append((self.tail, (self.full,)))
        state, data = model_state(self.model), (self.order, self.x, self.y)
        bad, loss, grads_ok = -1, 0.0, True
        for graph, args in calls:
            state, self.sums, bad, loss, grads_ok = graph(state, self.sums, data, *args)
            if int(bad) >= 0:
                break
        write_state(self.model, state)
        return int(bad), float(loss), bool(grads_ok)


class InferGraph(SplitGraph):
    """Steps in order (`training=False`), each batch's outputs folded into what the loop
    carries (`fold`); data: the images first."""

    def _loop(self) -> Any:
        jax, batch = self.jax, self.batch

        def run(variables: Any, carried: Any, data: Any, start: Any, count: Any) -> Any:
            def body(i: Any, carried: Any) -> Any:
                low = (start + i) * batch
                x = jax.lax.dynamic_slice_in_dim(data[0], low, batch)
                out, _, losses = self.model.stateless_call(
                    *variables, self.constrain(prepare(x, self.table)), training=False,
                    return_losses=True)  # losses: the regularization penalties
                extra = sum(losses) if losses else jax.numpy.float32(0)
                return self.fold(carried, data, low, out, extra)

            return jax.lax.fori_loop(0, count, body, carried)

        return run


class EvalGraph(InferGraph):
    """Evaluation steps in order (`training=False`): `call(start, count)` accumulates."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str) -> None:
        super().__init__(model, split, batch, scale, dtype, padded=True)
        self.loop = self.jax.jit(self._loop())

    def fold(self, sums: Any, data: Any, low: Any, out: Any, extra: Any) -> Any:
        y = self.jax.lax.dynamic_slice_in_dim(data[1], low, self.batch)
        mask = self.mask(low, self.batch)
        return accumulate(sums, mean_loss(self.model, y, out, mask) + extra, out, y, mask)

    def call(self, start: int, count: int) -> None:
        self.sums = self.loop(model_state(self.model, optimizer=False), self.sums,
                              (self.x, self.y), start, count)
        self.sums[2].block_until_ready()


class PredictGraph(InferGraph):
    """Model outputs in order (`training=False`): `call(start, count)` -> those steps' rows."""

    def __init__(self, model: Any, split: Split, batch: int, scale: bool, dtype: str) -> None:
        super().__init__(model, Split(split.x, None), batch, scale, dtype, padded=True)
        self.buffer: Any = None
        self.loop = self.jax.jit(self._loop(), donate_argnums=1)

    def fold(self, buffer: Any, data: Any, low: Any, out: Any, extra: Any) -> Any:
        return self.jax.lax.dynamic_update_slice_in_dim(buffer, out.astype(buffer.dtype),
                                                        low, 0)

    def call(self, start: int, count: int) -> np.ndarray:
        variables = model_state(self.model, optimizer=False)
        if self.buffer is None:
            width = self.model.output_shape[-1]
            self.buffer = self.put(np.zeros((self.steps * self.batch, width), np.float32))
        self.buffer = self.loop(variables, self.buffer, (self.x,), start, count)
        low, high = start * self.batch, min((start + count) * self.batch, self.n)
        return np.asarray(self.buffer)[low:high]

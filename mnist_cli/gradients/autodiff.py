"""The few things gradcheck needs from the backend itself (TensorFlow or JAX); every other
array operation of the check is `keras.ops`, which runs inside both `tf.function` and
`jax.jit`.

- `float64_mode`: JAX computes in float32 unless its x64 mode is on (it silently truncates a
  float64 request otherwise); the check turns it on for its own duration only.
- `compiled`, `value_and_grad`, `grad_of_sum`, `map_over`: compiling a function, autodiff of
  a loss written as a function of a list of weights, and mapping over stacked weight copies.
- `pool_winners`: which input wins each max-pool window (only *whether it changes* between
  two evaluations matters: see `kinks`).
- `opaque`: what Keras's loss may not look through (TensorFlow only, see `per_sample_loss`).

Nothing here imports a backend at module level: each function does, lazily.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import mnist_cli.compat as compat
from mnist_cli.backend import current_backend, import_jax, import_keras, import_tf, is_jax
from mnist_cli.errors import RunFailed

AUTODIFF = {"tensorflow": "tf.GradientTape", "jax": "jax.value_and_grad"}
"""What computes the gradients under test, per backend (recorded in the result)."""


def backend_settings() -> dict[str, str]:
    """What a result records about where it was computed (Keras's backend, or the one
    selected before Keras loads)."""
    name = current_backend()
    return {"backend": name, "autodiff": AUTODIFF[name]}


@contextlib.contextmanager
def float64_mode() -> Iterator[None]:
    """Float64 arrays really compute in float64 for the duration: JAX's x64 mode on (a
    thread-local setting, nestable; JAX is back to float32 afterwards, so a later training
    in the same process is unaffected), and Keras's JAX type promotion told so (see
    `compat.float64_promoted`). TensorFlow always honours float64: nothing to do."""
    if not is_jax():
        yield
        return
    jax = import_jax()
    with jax.enable_x64(True), compat.float64_promoted():
        yield


def narrower_than_float64(fn: Callable[..., Any], *args: Any) -> list[str]:
    """On JAX, the operations of fn(*args) (traced, not run) that compute in a float narrower
    than float64: the outputs can be float64 while a step inside was not (a cast to float32
    and back). Always [] on TensorFlow, which computes float64 as asked."""
    if not is_jax():
        return []
    jax = import_jax()
    found: dict[str, None] = {}
    _walk_jaxpr(jax.make_jaxpr(fn)(*args).jaxpr, found)
    return list(found)


def _walk_jaxpr(jaxpr: Any, found: dict[str, None]) -> None:
    """Collect 'primitive computes in dtype' for narrow float outputs, sub-programs included."""
    import numpy as np

    for eqn in jaxpr.eqns:
        for var in eqn.outvars:
            dtype = getattr(getattr(var, "aval", None), "dtype", None)
            if dtype is not None and np.issubdtype(dtype, np.floating) and dtype != np.float64:
                found[f"{eqn.primitive.name} computes in {dtype}"] = None
        for value in eqn.params.values():
            for sub in value if isinstance(value, tuple | list) else (value,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    _walk_jaxpr(inner, found)


def x64_enabled() -> bool:
    """Whether float64 arrays compute in float64 now (always on TensorFlow)."""
    return not is_jax() or bool(import_jax().config.x64_enabled)


def not_float64(arrays: dict[str, Any]) -> list[str]:
    """'name is float32' for each array (name -> tensor) that is not float64."""
    dtype = import_keras().backend.standardize_dtype
    return [f"{name} is {dtype(a.dtype)}" for name, a in arrays.items()
            if dtype(a.dtype) != "float64"]


def refuse_unless_float64(wrong: list[str]) -> None:
    """RunFailed naming what is not float64 (finite differences in float32 are meaningless:
    rounding error ~1e-7/eps swamps the gradient), and why on JAX."""
    if wrong:
        hint = ("" if x64_enabled() else
                " (JAX computes in float32 unless its x64 mode is on: run the check through "
                "mnist_cli.gradients, which turns it on for the check)")
        raise RunFailed("gradcheck needs float64 everywhere but " + "; ".join(wrong[:3]) + hint)


def to_tensor(value: Any) -> Any:
    """A numpy array as a backend tensor of the same dtype (float64 needs `float64_mode`)."""
    return import_keras().ops.convert_to_tensor(value)


def compiled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn as one compiled program: `tf.function` (retracing only for new shapes) or
    `jax.jit`. Its array arguments may be numpy arrays or tensors."""
    if is_jax():
        return import_jax().jit(fn)
    return import_tf().function(fn, reduce_retracing=True)


def value_and_grad(fn: Callable[[list], Any], weights: list) -> tuple[Any, list]:
    """(fn(weights), d fn / d weights) for a scalar fn of a list of tensors (GradientTape
    watching them, or `jax.value_and_grad`); works eagerly and inside `compiled`."""
    if is_jax():
        return import_jax().value_and_grad(fn)(list(weights))
    tf = import_tf()
    weights = list(weights)
    with tf.GradientTape() as tape:
        tape.watch(weights)
        value = fn(weights)
    return value, tape.gradient(value, weights)


def grad_of_sum(fn: Callable[[Any], Any], x: Any) -> tuple[Any, Any]:
    """(fn(x), d sum(fn(x)) / dx): for an elementwise fn, its slope at every point of x."""
    if is_jax():
        y, pullback = import_jax().vjp(fn, x)
        return y, pullback(import_jax().numpy.ones_like(y))[0]
    tf = import_tf()
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y, tape.gradient(y, x)


def map_over(fn: Callable[[Any], Any], stacked: Any) -> Any:
    """[fn(row) for row in stacked], stacked on axis 0, inside a compiled function: fn maps
    one weight copy to a float64 layer output (`tf.map_fn`, or `jax.vmap`: one batched
    program over the copies)."""
    if is_jax():
        return import_jax().vmap(fn)(stacked)
    tf = import_tf()
    return tf.map_fn(fn, stacked, fn_output_signature=tf.float64, parallel_iterations=8)


def opaque(x: Any) -> Any:
    """x, with where it came from hidden from Keras's loss on TensorFlow (`tf.identity`):
    Keras's TensorFlow loss swaps a softmax / sigmoid output for the logits it came from when
    it can tell (eagerly by an attribute, in a graph by the op type). Keras's JAX loss does
    no such thing (keras/src/backend/jax/nn.py, Keras 3.15): x as it is."""
    return x if is_jax() else import_tf().identity(x)


def pool_winners(layer: Any, h: Any) -> Any:
    """Index of the winner of each max-pool window of `layer` on input h (channels_last;
    1-D pooling as 2-D with a unit height)."""
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ValueError("kink detection needs channels_last max pooling")
    pool, strides = tuple(layer.pool_size), tuple(layer.strides)
    ops = import_keras().ops
    if len(h.shape) == 3:
        h, pool, strides = ops.expand_dims(h, 1), (1,) + pool, (1,) + strides
    if is_jax():
        return _window_argmax(h, pool, strides, layer.padding.upper())
    tf = import_tf()
    _, argmax = tf.nn.max_pool_with_argmax(h, pool, strides, layer.padding.upper(),
                                           include_batch_in_index=False)
    return argmax


def _window_argmax(h: Any, pool: tuple[int, int], strides: tuple[int, int],
                   padding: str) -> Any:
    """JAX: the position of the maximum within each window (N, H', W', C), from the pool's
    window offsets stacked on a last axis (padding with -inf, where max pooling pads)."""
    jax = import_jax()
    jnp = jax.numpy
    if padding == "SAME":
        pads = jax.lax.padtype_to_pads(h.shape[1:3], pool, strides, "SAME")
        h = jnp.pad(h, ((0, 0), *pads, (0, 0)), constant_values=-jnp.inf)
    out = [(h.shape[1 + i] - pool[i]) // strides[i] + 1 for i in range(2)]
    windows = [h[:, dy:dy + strides[0] * (out[0] - 1) + 1:strides[0],
                 dx:dx + strides[1] * (out[1] - 1) + 1:strides[1], :]
               for dy in range(pool[0]) for dx in range(pool[1])]
    return jnp.argmax(jnp.stack(windows, axis=-1), axis=-1)

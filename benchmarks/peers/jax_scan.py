"""Peer: pure JAX + optax, one jitted `jax.lax.scan` over an epoch's batches.

Same model as mnist-cli's mlp_relu / cnn (NHWC, HWIO kernels as Keras stores them), Keras's
initialisers (glorot_uniform kernels, zero biases), Adam at the config's rate with Keras's
epsilon, softmax cross-entropy on logits, batch 128. Each epoch draws a seeded permutation
inside the jitted function; the last partial batch is padded to 128 and masked out of the
loss, so every epoch sees exactly the training set, in ceil(n/128) updates, as Keras does.
The CNN's convolution and pool are `lax.conv_general_dilated` + `lax.reduce_window` (what a
JAX user writes, and what Keras on JAX runs), or with `--conv im2col` the same arithmetic as
one matmul over shifted views + a reshape max pool (several times faster on XLA's CPU backend).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import peerlib

glorot = jax.nn.initializers.glorot_uniform()
Params = dict[str, Any]


def dense(key: jax.Array, n_in: int, n_out: int) -> Params:
    return {"w": glorot(key, (n_in, n_out)), "b": jnp.zeros(n_out)}


def init(key: jax.Array, model: str, image_shape: tuple[int, ...]) -> list[Params]:
    """Layer parameters in Keras's shapes: Dense (in, out), Conv2D (kh, kw, in, out)."""
    h, w, c = image_shape
    k = jax.random.split(key, 4)
    if model == "mlp":
        return [dense(k[0], h * w * c, 25), dense(k[1], 25, 15), dense(k[2], 15, 10)]
    conv = {"w": glorot(k[0], (3, 3, c, 32)), "b": jnp.zeros(32)}
    flat = ((h - 2) // 2) * ((w - 2) // 2) * 32
    return [conv, dense(k[1], flat, 64), dense(k[2], 64, 10)]


def conv_lax(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """VALID 2-D convolution as written idiomatically (and as Keras on JAX does it)."""
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), "VALID",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def conv_im2col(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """The same VALID convolution as one matmul over the stacked shifted views (patches in
    (kh, kw, c) order, matching the HWIO kernel flattened)."""
    kh, kw, c, f = kernel.shape
    n, h, w, _ = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    cols = jnp.stack([x[:, i:i + oh, j:j + ow, :] for i in range(kh) for j in range(kw)], 3)
    return cols.reshape(n, oh, ow, kh * kw * c) @ kernel.reshape(kh * kw * c, f)


def pool_lax(x: jax.Array) -> jax.Array:
    """MaxPooling2D(2) as `lax.reduce_window` (what Keras on JAX uses)."""
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def pool_reshape(x: jax.Array) -> jax.Array:
    """The same 2x2 VALID max pool as a reshape + max (odd edges cropped, as VALID does)."""
    n, h, w, c = x.shape
    x = x[:, :h // 2 * 2, :w // 2 * 2]
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def make_forward(conv: str) -> Any:
    """Logits: Flatten-Dense-ReLU stack, or Conv-ReLU-MaxPool(2)-Flatten first for the CNN;
    `conv` picks the convolution and pool formulation (`lax` or `im2col`)."""
    conv_fn, pool_fn = (conv_lax, pool_lax) if conv == "lax" else (conv_im2col, pool_reshape)

    def forward(params: list[Params], x: jax.Array) -> jax.Array:
        if params[0]["w"].ndim == 4:
            x = pool_fn(jax.nn.relu(conv_fn(x, params[0]["w"]) + params[0]["b"]))
            params = params[1:]
        x = x.reshape(x.shape[0], -1)
        for layer in params[:-1]:
            x = jax.nn.relu(x @ layer["w"] + layer["b"])
        return x @ params[-1]["w"] + params[-1]["b"]

    return forward


def make_epoch(forward: Any, n: int, opt: optax.GradientTransformation,
               batch_size: int) -> Any:
    """A jitted epoch over `n` images passed as arguments (not closed over: XLA would bake
    them into the program as constants): a permutation, padded to whole batches with a 0/1
    mask, and `lax.scan` over the batches' indices. Each step gathers its own batch:
    scanning over a pre-gathered epoch of images (`x[order]`) ran 3-4x slower on this CPU."""
    steps = peerlib.batches_per_epoch(n, batch_size)
    pad = steps * batch_size - n
    mask = jnp.concatenate([jnp.ones(n), jnp.zeros(pad)]).reshape(steps, batch_size)

    def loss_fn(params: list[Params], xb: jax.Array, yb: jax.Array, mb: jax.Array) -> jax.Array:
        losses = optax.softmax_cross_entropy_with_integer_labels(forward(params, xb), yb)
        return jnp.sum(losses * mb) / jnp.sum(mb)

    @jax.jit
    def epoch(params: list[Params], opt_state: Any, key: jax.Array, x: jax.Array,
              y: jax.Array) -> Any:
        def step(carry: Any, batch: tuple[jax.Array, jax.Array]) -> tuple[Any, jax.Array]:
            params, opt_state = carry
            idx, mb = batch
            loss, grads = jax.value_and_grad(loss_fn)(params, x[idx], y[idx], mb)
            updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        order = jnp.concatenate([jax.random.permutation(key, n), jnp.zeros(pad, jnp.int32)])
        (params, opt_state), losses = jax.lax.scan(
            step, (params, opt_state), (order.reshape(steps, batch_size), mask))
        return params, opt_state, jnp.mean(losses)

    return epoch


def main() -> None:
    p = peerlib.parser(__doc__.splitlines()[0])
    p.add_argument("--conv", choices=("lax", "im2col"), default="lax",
                   help="CNN formulation: lax.conv + reduce_window, or im2col matmul + reshape")
    args = p.parse_args()
    forward = make_forward(args.conv)
    data = peerlib.load(args.data)
    key, init_key = jax.random.split(jax.random.PRNGKey(args.seed))
    params = init(init_key, args.model, data.x_train.shape[1:])
    opt = optax.adam(args.learning_rate, eps=peerlib.ADAM_EPSILON)
    opt_state = opt.init(params)
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    epoch = make_epoch(forward, len(x), opt, args.batch_size)
    clock = peerlib.EpochClock()
    for e in range(args.epochs):
        clock.start()
        params, opt_state, loss = epoch(params, opt_state, jax.random.fold_in(key, e), x, y)
        loss.block_until_ready()
        clock.stop()
    logits = jax.jit(forward)(params, jnp.asarray(data.x_test))
    acc = float((np.asarray(jnp.argmax(logits, 1)) == data.y_test).mean())
    name = "jax_scan" if args.conv == "lax" else "jax_scan_im2col"
    peerlib.emit(peerlib.summary(name, args, len(data.x_train), clock.seconds, acc))


if __name__ == "__main__":
    main()

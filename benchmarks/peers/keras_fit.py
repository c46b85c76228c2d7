"""Peer: a plain Keras 3 script, `model.fit`, on TensorFlow or on JAX (`--backend`).

TensorFlow, hand-tuned: the scaled float32 arrays go through `tf.data` with `cache()`, a
seeded per-epoch `shuffle`, `batch(128)` and `prefetch(AUTOTUNE)`; `steps_per_execution`
runs several steps per graph call (`--steps-per-execution`, default 32); `jit_compile` stays
off (Keras's "auto" on a CPU-only machine): XLA was slower here for both models (see
docs/benchmarks.md). JAX: the numpy arrays go straight to `fit(..., shuffle=True)` (a
`tf.data` pipeline would import TensorFlow), Keras's default jitted train step.
Same model, Keras's own initialisers, Adam at the config's rate, logits + from_logits loss.
"""

from __future__ import annotations

import os
import random
import sys
from typing import Any

BACKENDS = ("tensorflow", "jax")


def backend_from_argv(argv: list[str]) -> str:
    """The backend must be set before Keras is imported, so it is read before argparse."""
    for i, arg in enumerate(argv):
        if arg == "--backend" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--backend="):
            return arg.split("=", 1)[1]
    return "tensorflow"


os.environ["KERAS_BACKEND"] = backend_from_argv(sys.argv[1:])
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import peerlib  # noqa: E402


def build(model: str, image_shape: tuple[int, ...], seed: int) -> keras.Model:
    """mnist-cli's shipped mlp_relu / cnn stacks: glorot_uniform kernels (seeded here, one
    seed per layer), zero biases, as Keras's defaults."""
    L = keras.layers

    def kw(i: int) -> dict[str, Any]:
        return {"activation": "relu", "kernel_initializer":
                keras.initializers.GlorotUniform(seed=seed * 100 + i)}

    if model == "mlp":
        body = [L.Flatten(), L.Dense(25, **kw(0)), L.Dense(15, **kw(1))]
    else:
        body = [L.Conv2D(32, 3, **kw(0)), L.MaxPooling2D(2), L.Flatten(), L.Dense(64, **kw(1))]
    head = L.Dense(10, kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 100 + 2))
    return keras.Sequential([keras.Input(image_shape), *body, head])


def seed_everything(seed: int, backend: str) -> None:
    """`keras.utils.set_random_seed` imports TensorFlow whenever it is installed (to seed
    `tf.random`), which would add TF's import to the JAX run: seed Python and NumPy (what
    `fit(shuffle=True)` on JAX draws from) directly there; initialisers carry their own seeds."""
    if backend == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)


class EpochTimer(keras.callbacks.Callback):
    """Epoch wall time as `fit` sees it (reading the loss syncs JAX's async dispatch)."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = peerlib.EpochClock()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.clock.start()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        float((logs or {}).get("loss", 0.0))
        self.clock.stop()


def fit_inputs(data: peerlib.Data, args: Any) -> tuple[dict[str, Any], int]:
    """fit() keyword arguments and steps_per_execution for this backend."""
    if args.backend == "jax":
        return {"x": data.x_train, "y": data.y_train, "batch_size": args.batch_size,
                "shuffle": True}, args.steps_per_execution or 1
    import tensorflow as tf

    ds = (tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train)).cache()
          .shuffle(len(data.x_train), seed=args.seed, reshuffle_each_iteration=True)
          .batch(args.batch_size).prefetch(tf.data.AUTOTUNE))
    return {"x": ds, "shuffle": False}, args.steps_per_execution or 32


def parse_args() -> Any:
    p = peerlib.parser(__doc__.splitlines()[0])
    p.add_argument("--backend", choices=BACKENDS, default="tensorflow")
    p.add_argument("--steps-per-execution", type=int, default=0,
                   help="steps per graph call (0: 32 on TensorFlow, 1 on JAX)")
    p.add_argument("--jit-compile", choices=("auto", "true", "false"), default="auto")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    data = peerlib.load(args.data)
    seed_everything(args.seed, args.backend)
    net = build(args.model, data.x_train.shape[1:], args.seed)
    inputs, spe = fit_inputs(data, args)
    net.compile(optimizer=keras.optimizers.Adam(args.learning_rate, epsilon=peerlib.ADAM_EPSILON),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                steps_per_execution=spe, jit_compile=jit)
    timer = EpochTimer()
    net.fit(**inputs, epochs=args.epochs, verbose=0, callbacks=[timer])
    logits = net.predict(data.x_test, batch_size=512, verbose=0)
    acc = float((np.argmax(logits, 1) == data.y_test).mean())
    name = "keras_fit_tf" if args.backend == "tensorflow" else "keras_fit_jax"
    record = peerlib.summary(name, args, len(data.x_train), timer.clock.seconds, acc)
    record.update(steps_per_execution=spe, jit_compile=jit)
    peerlib.emit(record)


if __name__ == "__main__":
    main()

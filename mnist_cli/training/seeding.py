"""Seeds and determinism: every run records a seed, even one the user did not give."""

from __future__ import annotations

import secrets

from mnist_cli.tfenv import import_keras, import_tf


def resolve_seed(seed: int | None) -> int:
    return int(seed) if seed is not None else secrets.randbelow(2**31 - 1)


def seed_everything(seed: int, deterministic: bool) -> None:
    """Seed Python, NumPy and TensorFlow; ask for deterministic kernels when wanted.

    Op determinism costs ~0% per steady epoch here with tf.data inputs, hence on by default.
    """
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    if deterministic:
        import_tf().config.experimental.enable_op_determinism()

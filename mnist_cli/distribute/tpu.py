"""TPU connection with bounded failure: TensorFlow's own connect hangs on a dead address."""

from __future__ import annotations

import os
from typing import Any

from mnist_cli.distribute.probe import reachable, split_address
from mnist_cli.errors import UsageError

HOW = ("pass --tpu NAME|grpc://HOST:PORT or set COLAB_TPU_ADDR / TPU_NAME "
       "(see the README's Distributed training section)")


def tpu_address(explicit: str | None = None) -> str | None:
    """--tpu, else COLAB_TPU_ADDR (as grpc://...), else TPU_NAME, else None (as the seed did)."""
    if explicit:
        return explicit
    colab = os.environ.get("COLAB_TPU_ADDR", "").strip()
    if colab:
        return colab if "://" in colab else f"grpc://{colab}"
    return os.environ.get("TPU_NAME", "").strip() or None


def probe_tpu(address: str, timeout: float) -> None:
    """A grpc:// address must accept a TCP connection within `timeout` seconds."""
    if "://" not in address and ":" not in address:
        return  # a Cloud TPU name: the resolver looks it up and fails fast itself
    try:
        split_address(address)
    except ValueError:
        raise UsageError(f"TPU address {address!r} is not grpc://HOST:PORT; {HOW}") from None
    if not reachable(address, timeout=min(timeout, 5.0)):
        raise UsageError(f"no TPU answers at {address} (TCP connect failed); check the "
                         "address and that the TPU is running, or choose another --strategy")


def make_tpu_strategy(address: str | None, timeout: float) -> tuple[Any, str]:
    """TPUStrategy for `address` after a bounded probe; every failure becomes UsageError."""
    from mnist_cli.tfenv import import_tf

    if not address:
        raise UsageError(f"no TPU configured; {HOW}")
    probe_tpu(address, timeout)
    tf = import_tf()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver), address
    except (ValueError, tf.errors.OpError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"TPU at {address} unusable: {first}; {HOW}") from None

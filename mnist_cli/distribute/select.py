"""StrategyConfig -> (tf.distribute.Strategy, StrategyDescription saying which and why).

The strategies themselves are in the registry (`mnist_cli.distribute.registry`); this module
only resolves `auto` and dispatches.
"""

from __future__ import annotations

from typing import Any

from mnist_cli.backend import is_jax
from mnist_cli.distribute.config import StrategyConfig
from mnist_cli.distribute.description import StrategyDescription
from mnist_cli.distribute.registry import AUTO, choices, module
from mnist_cli.distribute.tpu import tpu_address
from mnist_cli.errors import UsageError
from mnist_cli.tfenv import import_tf

NAMES = choices()


def choose_auto(cfg: StrategyConfig) -> tuple[str, str]:
    """TPU if an address is configured, else Mirrored over >1 GPU, else default."""
    address = tpu_address(cfg.tpu)
    if address:
        return "tpu", f"a TPU address is configured ({address})"
    if cfg.workers:
        return "multi-worker", "--worker addresses were given"
    gpus = import_tf().config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return "mirrored", f"{len(gpus)} GPUs are visible"
    return "default", f"{len(gpus) or 'no'} GPU visible, no TPU configured"


def make_strategy(cfg: StrategyConfig) -> tuple[Any, StrategyDescription]:
    """Build the strategy `cfg` names; errors say how to fix the flags."""
    if cfg.name not in NAMES:
        raise UsageError(f"unknown strategy {cfg.name!r}; choose one of {', '.join(NAMES)}")
    if is_jax():  # the JAX backend's own strategies (keras.distribution), no TensorFlow
        from mnist_cli.training.jax_distribution import make_strategy as jax_strategy

        return jax_strategy(cfg, StrategyDescription.of)
    name, why = choose_auto(cfg) if cfg.name == AUTO else (cfg.name, "chosen by --strategy")
    return module(name).build(cfg, why)

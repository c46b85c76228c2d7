"""The strategy registry: one line per strategy, from which `--strategy`'s accepted values,
the `env` report's rows and `make_strategy`'s selection all derive.

Each line names a module (imported only when that strategy is built or reported, so this
table stays import-free) that defines

- `build(cfg: StrategyConfig, why: str) -> (tf.distribute.Strategy, StrategyDescription)`
- `availability(devices: dict[str, list[str]], tf_config) -> {row: {"usable", "why"}}`

Adding a strategy is one new module plus one line here. `auto` is not a strategy but a
choice among them (`select.choose_auto`).
"""

from __future__ import annotations

import importlib
from types import ModuleType

AUTO = "auto"

STRATEGIES: dict[str, str] = {
    "default": "mnist_cli.distribute.kinds.default",
    "one-device": "mnist_cli.distribute.kinds.one_device",
    "mirrored": "mnist_cli.distribute.kinds.mirrored",
    "multi-worker": "mnist_cli.distribute.kinds.multi_worker",
    "tpu": "mnist_cli.distribute.kinds.tpu",
    "data-parallel": "mnist_cli.training.jax_distribution",  # JAX backend only
}


def choices() -> tuple[str, ...]:
    """Every value `--strategy` accepts, in help order."""
    return (AUTO, *STRATEGIES)


def module(name: str) -> ModuleType:
    """The module implementing strategy `name` (a registry key)."""
    return importlib.import_module(STRATEGIES[name])

"""TensorFlow's default strategy: one device, no distribution."""

from __future__ import annotations

from typing import Any

from mnist_cli.distribute.config import StrategyConfig
from mnist_cli.distribute.description import StrategyDescription
from mnist_cli.tfenv import import_tf


def build(cfg: StrategyConfig, why: str) -> tuple[Any, StrategyDescription]:
    s = import_tf().distribute.get_strategy()
    return s, StrategyDescription.of(s, "default", why)


def availability(devs: dict[str, list[str]], tf_config: Any) -> dict[str, dict[str, Any]]:
    return {"default": {"usable": True, "why": "always available (one device)"}}

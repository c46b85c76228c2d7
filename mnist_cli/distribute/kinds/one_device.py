"""OneDeviceStrategy on the one --device (default /cpu:0)."""

from __future__ import annotations

from typing import Any

from mnist_cli.distribute.config import StrategyConfig
from mnist_cli.distribute.description import StrategyDescription
from mnist_cli.distribute.devices import one_device
from mnist_cli.tfenv import import_tf


def build(cfg: StrategyConfig, why: str) -> tuple[Any, StrategyDescription]:
    device = one_device(cfg.devices)
    s = import_tf().distribute.OneDeviceStrategy(device)
    return s, StrategyDescription.of(s, "one-device", why, devices=[device])


def availability(devs: dict[str, list[str]], tf_config: Any) -> dict[str, dict[str, Any]]:
    gpus = len(devs["GPU"])
    return {"one-device": {"usable": True,
                           "why": "--device /cpu:0" + (" or /gpu:0" if gpus else "")}}

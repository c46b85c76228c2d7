"""MirroredStrategy over the named devices, else every GPU, else the CPU(s)."""

from __future__ import annotations

from typing import Any

from mnist_cli.distribute.config import StrategyConfig
from mnist_cli.distribute.description import StrategyDescription
from mnist_cli.distribute.devices import cross_device_ops, mirrored_devices
from mnist_cli.tfenv import import_tf


def build(cfg: StrategyConfig, why: str) -> tuple[Any, StrategyDescription]:
    devices = mirrored_devices(cfg.devices)
    ops = cross_device_ops(cfg.cross_device_ops, devices)
    s = import_tf().distribute.MirroredStrategy(devices=devices, cross_device_ops=ops)
    return s, StrategyDescription.of(s, "mirrored", why, devices=devices,
                                     cross_device_ops=cfg.cross_device_ops)


def availability(devs: dict[str, list[str]], tf_config: Any) -> dict[str, dict[str, Any]]:
    """Two rows: mirrored itself, and with NCCL (which needs GPUs)."""
    gpus = len(devs["GPU"])
    many = gpus > 1 or len(devs["CPU"]) > 1
    return {
        "mirrored": {"usable": True, "why": f"over {gpus} GPUs" if gpus > 1 else
                     ("over the named --device list" if many else
                      "runs, but with 1 replica: no second GPU (or logical CPU) visible")},
        "mirrored+nccl": {"usable": gpus > 0, "why": "NCCL needs GPUs" if not gpus
                          else "GPUs visible"},
    }

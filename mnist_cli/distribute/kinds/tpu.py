"""TPUStrategy on --tpu, COLAB_TPU_ADDR or TPU_NAME, after a bounded probe."""

from __future__ import annotations

from typing import Any

from mnist_cli.distribute.config import StrategyConfig
from mnist_cli.distribute.description import StrategyDescription
from mnist_cli.distribute.tpu import make_tpu_strategy, tpu_address


def build(cfg: StrategyConfig, why: str) -> tuple[Any, StrategyDescription]:
    s, address = make_tpu_strategy(tpu_address(cfg.tpu), cfg.connect_timeout)
    return s, StrategyDescription.of(s, "tpu", why, tpu=address)


def availability(devs: dict[str, list[str]], tf_config: Any) -> dict[str, dict[str, Any]]:
    tpu = tpu_address()
    return {"tpu": {"usable": bool(tpu or devs["TPU"]),
                    "why": f"TPU address {tpu}" if tpu else
                    ("TPU devices visible" if devs["TPU"] else
                     "no TPU: set --tpu, COLAB_TPU_ADDR or TPU_NAME")}}

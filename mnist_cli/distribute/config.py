"""Typed strategy selection: what the --strategy flags resolve to (never part of RunConfig)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from mnist_cli.distribute.registry import choices

# The values `--strategy` accepts, derived from the registry (the CLI rejects anything else,
# exit 2); members are looked up by value, e.g. StrategyName("one-device").
StrategyName = Enum("StrategyName", {n: n for n in choices()}, type=str)  # type: ignore[misc]


class CrossDeviceOps(str, Enum):
    """How Mirrored combines gradients across devices."""

    auto = "auto"
    nccl = "nccl"
    hierarchical_copy = "hierarchical-copy"
    reduce_to_one = "reduce-to-one"


@dataclass
class StrategyConfig:
    """Everything needed to build a `tf.distribute.Strategy`."""

    name: str = "auto"
    """auto, default, one-device, mirrored, multi-worker or tpu."""
    devices: list[str] = field(default_factory=list)
    """Devices for one-device (exactly one) or mirrored (default: all visible GPUs)."""
    cross_device_ops: str = "auto"
    """Mirrored all-reduce: auto, nccl, hierarchical-copy, reduce-to-one."""
    workers: list[str] = field(default_factory=list)
    """HOST:PORT of every worker, in order (multi-worker; default: from TF_CONFIG)."""
    task_index: int | None = None
    """This process's index in `workers`."""
    connect_timeout: float = 60.0
    """Seconds to wait for every multi-worker peer (or a TPU) to answer before giving up."""
    tpu: str | None = None
    """TPU name or grpc://HOST:PORT (default: COLAB_TPU_ADDR or TPU_NAME)."""

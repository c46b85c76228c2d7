"""Device names for one-device and mirrored: canonical names, defaults, all-reduce choice."""

from __future__ import annotations

from typing import Any

from mnist_cli.backend import import_tf
from mnist_cli.errors import UsageError


def known_devices() -> list[str]:
    tf = import_tf()
    return [d.name for d in tf.config.list_logical_devices() if d.device_type in ("CPU", "GPU")]


def _canonical(device: str, known: list[str]) -> str:
    """'/gpu:0' -> '/job:localhost/replica:0/task:0/device:GPU:0', or UsageError."""
    kind, _, index = device.lower().lstrip("/").removeprefix("device:").partition(":")
    for full in known:
        if full.lower().endswith(f"device:{kind}:{index}"):
            return full
    raise UsageError(f"device {device!r} not found; visible: {', '.join(known) or 'none'} "
                     "(see `mnist-cli env`)")


def one_device(devices: list[str]) -> str:
    if len(devices) > 1:
        raise UsageError("one-device takes a single --device, e.g. --device /gpu:0")
    return _canonical(devices[0] if devices else "/cpu:0", known_devices())


def mirrored_devices(devices: list[str]) -> list[str]:
    """The named devices, else every visible GPU, else the CPU(s)."""
    known = known_devices()
    if devices:
        return [_canonical(d, known) for d in devices]
    gpus = [d for d in known if ":GPU:" in d]
    return gpus or [d for d in known if ":CPU:" in d]


def cross_device_ops(name: str, devices: list[str]) -> Any:
    """The all-reduce for Mirrored; NCCL is refused on CPU (it has no CPU kernel)."""
    tf = import_tf()
    if name == "nccl":
        cpus = [d for d in devices if ":CPU:" in d.upper()]
        if cpus:
            raise UsageError(f"--cross-device-ops nccl needs GPUs but {', '.join(cpus)} "
                             "is a CPU; use hierarchical-copy or reduce-to-one on CPUs")
        return tf.distribute.NcclAllReduce()
    if name == "hierarchical-copy":
        return tf.distribute.HierarchicalCopyAllReduce()
    if name == "reduce-to-one":
        return tf.distribute.ReductionToOneDevice()
    if name != "auto":
        raise UsageError(f"unknown --cross-device-ops {name!r}; "
                         "choose auto, nccl, hierarchical-copy or reduce-to-one")
    return None

"""StrategyConfig -> (tf.distribute.Strategy, description saying which and why)."""

from __future__ import annotations

from typing import Any

from mnist_cli.errors import UsageError
from mnist_cli.strategy.cluster import name_tasks, resolve_cluster, wait_for_peers
from mnist_cli.strategy.config import StrategyConfig
from mnist_cli.strategy.tpu import make_tpu_strategy, tpu_address
from mnist_cli.strategy.watchdog import deadline
from mnist_cli.tfenv import import_tf

NAMES = ("auto", "default", "one-device", "mirrored", "multi-worker", "tpu")


def describe(strategy: Any, name: str, why: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "class": type(strategy).__name__,
            "replicas": int(strategy.num_replicas_in_sync), "why": why, **extra}


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


def make_strategy(cfg: StrategyConfig) -> tuple[Any, dict[str, Any]]:
    """Build the strategy `cfg` names; errors say how to fix the flags."""
    if cfg.name not in NAMES:
        raise UsageError(f"unknown strategy {cfg.name!r}; choose one of {', '.join(NAMES)}")
    name, why = choose_auto(cfg) if cfg.name == "auto" else (cfg.name, "chosen by --strategy")
    if name == "multi-worker":
        return make_multi_worker(cfg, why)
    tf = import_tf()
    if name == "default":
        return (s := tf.distribute.get_strategy()), describe(s, name, why)
    if name == "tpu":
        s, address = make_tpu_strategy(tpu_address(cfg.tpu), cfg.connect_timeout)
        return s, describe(s, name, why, tpu=address)
    if name == "one-device":
        device = one_device(cfg.devices)
        s = tf.distribute.OneDeviceStrategy(device)
        return s, describe(s, name, why, devices=[device])
    devices = mirrored_devices(cfg.devices)
    ops = cross_device_ops(cfg.cross_device_ops, devices)
    s = tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=ops)
    return s, describe(s, name, why, devices=devices, cross_device_ops=cfg.cross_device_ops)


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


def make_multi_worker(cfg: StrategyConfig, why: str) -> tuple[Any, dict[str, Any]]:
    """Check every peer answers (bounded) before TF's constructor, which would wait forever."""
    cluster = resolve_cluster(cfg)
    wait_for_peers(cluster, cfg.connect_timeout)
    tf = import_tf()
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec(cluster.tf_config()["cluster"]), task_type=cluster.task_type,
        task_id=cluster.task_index, rpc_layer="grpc")
    late = (f"multi-worker: {name_tasks(cluster.peers)} answered the port probe but did not "
            f"join within {cfg.connect_timeout:g} s; check that each runs mnist-cli with the "
            "same cluster, or raise --connect-timeout")
    with deadline(cfg.connect_timeout, late):
        s = tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    return s, describe(s, "multi-worker", why, workers=[a for _, _, a in cluster.tasks],
                       task={"type": cluster.task_type, "index": cluster.task_index},
                       is_chief=cluster.is_chief)

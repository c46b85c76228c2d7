"""The distribution strategies: one table from which `--strategy`'s accepted values, the `env`
report's rows and `make_strategy`'s dispatch all derive.

A strategy is a `build(cfg, why) -> (tf.distribute.Strategy, StrategyDescription)` and an
`availability(devices, tf_config) -> {row: {"usable", "why"}}` for `mnist-cli env`; adding
one is those two functions and one line in `STRATEGIES`. `auto` is not a strategy but a
choice among them (`choose_auto`). TensorFlow is imported only when a strategy is built.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

from mnist_cli.backend import import_tf, is_jax
from mnist_cli.distribute.cluster import (
    deadline,
    name_tasks,
    resolve_cluster,
    tpu_address,
    tpu_strategy,
    wait_for_peers,
)
from mnist_cli.distribute.devices import cross_device_ops, mirrored_devices, one_device
from mnist_cli.errors import UsageError

AUTO = "auto"
Rows = dict[str, dict[str, Any]]
"""`env` rows: {row name: {"usable": bool, "why": str}}."""


class CrossDeviceOps(str, Enum):
    """How Mirrored combines gradients across devices."""

    auto = "auto"
    nccl = "nccl"
    hierarchical_copy = "hierarchical-copy"
    reduce_to_one = "reduce-to-one"


@dataclass
class StrategyConfig:
    """Everything needed to build a `tf.distribute.Strategy` (never part of RunConfig)."""

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


@dataclass(frozen=True)
class TaskRole:
    """This process's place in a multi-worker cluster."""

    type: str
    index: int


@dataclass(frozen=True)
class StrategyDescription:
    """What `make_strategy` built and why, typed: every reader (status line, chief-only run
    directories, TensorBoard, metrics.json) reads fields. Only multi-worker tasks other than
    the chief have `is_chief` False (they train but keep no run directory)."""

    name: str
    """The table's name: default, one-device, mirrored, multi-worker, tpu."""
    why: str
    """Why this one: 'chosen by --strategy' or what `auto` saw."""
    cls: str
    """The TensorFlow class name."""
    replicas: int
    is_chief: bool = True
    devices: list[str] = field(default_factory=list)
    cross_device_ops: str | None = None
    tpu: str | None = None
    workers: list[str] = field(default_factory=list)
    task: TaskRole | None = None

    @classmethod
    def of(cls, strategy: Any, name: str, why: str, **extra: Any) -> StrategyDescription:
        """Describe a built `tf.distribute.Strategy`."""
        return cls(name=name, why=why, cls=type(strategy).__name__,
                   replicas=int(strategy.num_replicas_in_sync), **extra)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, keyed as metrics.json's `strategy` is (`class`), without the fields this
        strategy does not use."""
        body = {("class" if k == "cls" else k): v for k, v in asdict(self).items()}
        return {k: v for k, v in body.items() if v not in (None, [])}


Built = tuple[Any, StrategyDescription]


def build_default(cfg: StrategyConfig, why: str) -> Built:
    s = import_tf().distribute.get_strategy()
    return s, StrategyDescription.of(s, "default", why)


def build_one_device(cfg: StrategyConfig, why: str) -> Built:
    device = one_device(cfg.devices)
    s = import_tf().distribute.OneDeviceStrategy(device)
    return s, StrategyDescription.of(s, "one-device", why, devices=[device])


MIRRORED: dict[tuple[tuple[str, ...], str], Any] = {}
"""One MirroredStrategy per device list and cross-device ops in a process: two strategies
over the same devices draw the same collective instance keys, so a second run in the same
process (a notebook, the API called twice) would pair its all-reduces with the first's."""


def build_mirrored(cfg: StrategyConfig, why: str) -> Built:
    devices = mirrored_devices(cfg.devices)
    key = (tuple(devices), str(cfg.cross_device_ops))
    if key not in MIRRORED:
        ops = cross_device_ops(cfg.cross_device_ops, devices)
        MIRRORED[key] = import_tf().distribute.MirroredStrategy(devices=devices,
                                                                cross_device_ops=ops)
    s = MIRRORED[key]
    return s, StrategyDescription.of(s, "mirrored", why, devices=devices,
                                     cross_device_ops=cfg.cross_device_ops)


def build_multi_worker(cfg: StrategyConfig, why: str) -> Built:
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
    return s, StrategyDescription.of(
    s, "multi-worker", why, workers=[a for _, _, a in cluster.tasks],
        task=TaskRole(cluster.task_type, cluster.task_index), is_chief=cluster.is_chief)


def build_tpu(cfg: StrategyConfig, why: str) -> Built:
    address = tpu_address(cfg.tpu)
    s = tpu_strategy(address, cfg.connect_timeout)
    return s, StrategyDescription.of(s, "tpu", why, tpu=address)


def mirrored_rows(devs: dict[str, list[str]], tf_config: Any) -> Rows:
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


def tpu_rows(devs: dict[str, list[str]], tf_config: Any) -> Rows:
    tpu = tpu_address()
    return {"tpu": {"usable": bool(tpu or devs["TPU"]),
                    "why": f"TPU address {tpu}" if tpu else
                    ("TPU devices visible" if devs["TPU"] else
                     "no TPU: set --tpu, COLAB_TPU_ADDR or TPU_NAME")}}


class Strategy(NamedTuple):
    """One line of the table: how to build it, and its `env` rows."""

    build: Callable[[StrategyConfig, str], Built]
    availability: Callable[[dict[str, list[str]], Any], Rows]


STRATEGIES: dict[str, Strategy] = {
    "default": Strategy(build_default, lambda devs, tf_config: {
        "default": {"usable": True, "why": "always available (one device)"}}),
    "one-device": Strategy(build_one_device, lambda devs, tf_config: {
        "one-device": {"usable": True,
                       "why": "--device /cpu:0" + (" or /gpu:0" if devs["GPU"] else "")}}),
    "mirrored": Strategy(build_mirrored, mirrored_rows),
    "multi-worker": Strategy(build_multi_worker, lambda devs, tf_config: {
        "multi-worker": {"usable": bool(tf_config), "why": "TF_CONFIG is set" if tf_config
                         else "needs TF_CONFIG or --worker HOST:PORT ... --task-index"}}),
    "tpu": Strategy(build_tpu, tpu_rows),
    "data-parallel": Strategy(  # the JAX backend's (keras.distribution); refused on TF
        lambda cfg, why: jax_strategies().build(cfg, why),
        lambda devs, tf_config: jax_strategies().availability(devs, tf_config)),
}


def jax_strategies() -> Any:
    """The JAX backend's strategies (mnist_cli.training.jax_distribution), imported lazily."""
    import mnist_cli.training.jax_distribution as jax_distribution

    return jax_distribution


def choices() -> tuple[str, ...]:
    """Every value `--strategy` accepts, in help order."""
    return (AUTO, *STRATEGIES)


NAMES = choices()
# The values `--strategy` accepts (the CLI rejects anything else, exit 2); members are looked
# up by value, e.g. StrategyName("one-device").
StrategyName = Enum("StrategyName", {n: n for n in NAMES}, type=str)  # type: ignore[misc]


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


def make_strategy(cfg: StrategyConfig) -> Built:
    """Build the strategy `cfg` names; errors say how to fix the flags."""
    if cfg.name not in choices():
        raise UsageError(f"unknown strategy {cfg.name!r}; choose one of {', '.join(choices())}")
    if is_jax():  # the JAX backend's own strategies (keras.distribution), no TensorFlow
        return jax_strategies().make_strategy(cfg, StrategyDescription.of)
    name, why = choose_auto(cfg) if cfg.name == AUTO else (cfg.name, "chosen by --strategy")
    return STRATEGIES[name].build(cfg, why)


def is_multi_worker(strategy: object) -> bool:
    """True for MultiWorkerMirroredStrategy (Keras 3 fit fails under it: use the custom loop)."""
    return "MultiWorker" in type(strategy).__name__ or "CollectiveAll" in type(strategy).__name__


def summary_line(desc: StrategyDescription, batch_per_replica: int) -> str:
    """'strategy mirrored (chosen by --strategy): 2 replicas, batch 32 per replica, global 64'."""
    replicas = desc.replicas
    line = (f"strategy {desc.name} ({desc.why}): {replicas} replica(s), batch "
            f"{batch_per_replica} per replica, global batch {batch_per_replica * replicas}")
    if desc.task is not None:
        role = "chief" if desc.is_chief else "non-chief, run directory discarded"
        line += f"; task {desc.task.type} {desc.task.index} ({role})"
    return line


@contextmanager
def run_dir_for(desc: StrategyDescription, target: Path) -> Iterator[Path]:
    """`target` on the chief; a temporary directory, removed afterwards, on other workers
    (they must still write checkpoints for the collective ops, but nobody keeps them)."""
    if desc.is_chief:
        yield Path(target)
        return
    tmp = Path(tempfile.mkdtemp(prefix="mnist-cli-worker-"))
    try:
        yield tmp / "run"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

"""Multi-worker cluster: from --worker/--task-index or TF_CONFIG, and the peer check."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from mnist_cli.distribute.config import StrategyConfig
from mnist_cli.distribute.probe import hold_port, split_address, wait_reachable
from mnist_cli.errors import RunFailed, UsageError


@dataclass
class Cluster:
    """Every task's address, in TF_CONFIG order, and which one this process is."""

    tasks: list[tuple[str, int, str]]
    """(task type, index, HOST:PORT) for every task: chief first, then workers."""
    task_type: str
    task_index: int

    @property
    def me(self) -> str:
        return next(a for t, i, a in self.tasks if (t, i) == (self.task_type, self.task_index))

    @property
    def peers(self) -> list[tuple[str, int, str]]:
        return [x for x in self.tasks if (x[0], x[1]) != (self.task_type, self.task_index)]

    @property
    def is_chief(self) -> bool:
        """The chief task, or worker 0 when the cluster has no chief (TF's rule)."""
        has_chief = any(t == "chief" for t, _, _ in self.tasks)
        return self.task_type == "chief" or (not has_chief and self.task_index == 0)

    def tf_config(self) -> dict[str, Any]:
        spec: dict[str, list[str]] = {}
        for t, _, a in self.tasks:
            spec.setdefault(t, []).append(a)
        return {"cluster": spec, "task": {"type": self.task_type, "index": self.task_index}}


def name_tasks(tasks: list[tuple[str, int, str]]) -> str:
    """`worker 1 (10.0.0.2:12345), ...`: how errors name cluster members."""
    return ", ".join(f"{t} {i} ({a})" for t, i, a in tasks)


def tf_config_env() -> dict[str, Any] | None:
    """TF_CONFIG from the environment, parsed, or None when unset."""
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(f"TF_CONFIG is not valid JSON ({exc}); fix or unset it") from None
    if not isinstance(value, dict):
        raise UsageError("TF_CONFIG must be a JSON object with 'cluster' and 'task'")
    return value


def from_tf_config(conf: dict[str, Any]) -> Cluster:
    spec, task = conf.get("cluster") or {}, conf.get("task") or {}
    tasks = [(t, i, a) for t in ("chief", "worker") for i, a in enumerate(spec.get(t, []))]
    if not tasks or task.get("type") not in ("chief", "worker"):
        raise UsageError("TF_CONFIG needs cluster.worker (and optional chief) and "
                         "task.type chief|worker; see the README's Distributed training section")
    cluster = Cluster(tasks, task["type"], int(task.get("index", 0)))
    if not any((t, i) == (cluster.task_type, cluster.task_index) for t, i, _ in tasks):
        raise UsageError(f"TF_CONFIG task {task} is not in its cluster {spec}")
    return cluster


def resolve_cluster(cfg: StrategyConfig) -> Cluster:
    """--worker/--task-index win over TF_CONFIG; one of them is required."""
    if cfg.workers:
        if cfg.task_index is None or not 0 <= cfg.task_index < len(cfg.workers):
            raise UsageError(f"--task-index must be 0..{len(cfg.workers) - 1} with "
                             f"{len(cfg.workers)} --worker addresses")
        for w in cfg.workers:
            _check_address(w)
        return Cluster([("worker", i, w) for i, w in enumerate(cfg.workers)],
                       "worker", cfg.task_index)
    conf = tf_config_env()
    if conf is None:
        raise UsageError("multi-worker needs --worker HOST:PORT (repeat, one per worker) with "
                         "--task-index, or a TF_CONFIG environment variable")
    return from_tf_config(conf)


def _check_address(address: str) -> None:
    try:
        split_address(address)
    except ValueError:
        raise UsageError(f"--worker {address!r}: expected HOST:PORT, e.g. 10.0.0.2:12345") from None


def wait_for_peers(cluster: Cluster, timeout: float) -> None:
    """Block until every peer answers on its port (bounded), else RunFailed naming them.

    TensorFlow's constructor would wait forever, ignoring SIGTERM, for a missing peer.
    """
    try:
        held = hold_port(cluster.me)
    except OSError as exc:
        raise UsageError(f"cannot listen on {cluster.me} ({exc.strerror}); is another "
                         "worker or program using that port? choose a free one") from None
    try:
        missing = wait_reachable([a for _, _, a in cluster.peers], timeout)
    finally:
        held.close()
    if missing:
        names = name_tasks([p for p in cluster.peers if p[2] in missing])
        raise RunFailed(f"multi-worker: {names} not reachable after {timeout:g} s; start every "
                        "worker with the same cluster, or raise --connect-timeout")

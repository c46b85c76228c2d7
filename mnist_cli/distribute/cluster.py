"""Where the other machines are, and bounded ways to reach them.

A multi-worker cluster from --worker/--task-index or TF_CONFIG, a TPU address from --tpu or
the environment, TCP probes and a deadline: TensorFlow's own connects wait forever (holding
the GIL, ignoring SIGTERM) when nothing answers, so every connect here is bounded first.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from mnist_cli.errors import RunFailed, UsageError

TPU_HOW = ("pass --tpu NAME|grpc://HOST:PORT or set COLAB_TPU_ADDR / TPU_NAME "
           "(see docs/distributed.md)")


class WorkerFlags(Protocol):
    """The part of a StrategyConfig that names a cluster."""

    workers: list[str]
    task_index: int | None


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
                         "task.type chief|worker; see docs/distributed.md")
    cluster = Cluster(tasks, task["type"], int(task.get("index", 0)))
    if not any((t, i) == (cluster.task_type, cluster.task_index) for t, i, _ in tasks):
        raise UsageError(f"TF_CONFIG task {task} is not in its cluster {spec}")
    return cluster


def resolve_cluster(cfg: WorkerFlags) -> Cluster:
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


def tpu_address(explicit: str | None = None) -> str | None:
    """--tpu, else COLAB_TPU_ADDR (as grpc://...), else TPU_NAME, else None (as the seed did)."""
    if explicit:
        return explicit
    colab = os.environ.get("COLAB_TPU_ADDR", "").strip()
    if colab:
        return colab if "://" in colab else f"grpc://{colab}"
    return os.environ.get("TPU_NAME", "").strip() or None


def probe_tpu(address: str, timeout: float) -> None:
    """A grpc:// address must accept a TCP connection within `timeout` seconds."""
    if "://" not in address and ":" not in address:
        return  # a Cloud TPU name: the resolver looks it up and fails fast itself
    try:
        split_address(address)
    except ValueError:
        raise UsageError(f"TPU address {address!r} is not grpc://HOST:PORT; {TPU_HOW}") from None
    if not reachable(address, timeout=min(timeout, 5.0)):
        raise UsageError(f"no TPU answers at {address} (TCP connect failed); check the "
                         "address and that the TPU is running, or choose another --strategy")


def tpu_strategy(address: str | None, timeout: float) -> Any:
    """TPUStrategy for `address` after a bounded probe; every failure becomes UsageError."""
    from mnist_cli.backend import import_tf

    if not address:
        raise UsageError(f"no TPU configured; {TPU_HOW}")
    probe_tpu(address, timeout)
    tf = import_tf()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, tf.errors.OpError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"TPU at {address} unusable: {first}; {TPU_HOW}") from None


def split_address(address: str) -> tuple[str, int]:
    """'grpc://host:port' or 'host:port' -> (host, port)."""
    addr = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{address!r} is not HOST:PORT")
    return host.strip("[]") or "localhost", int(port)


def reachable(address: str, timeout: float = 1.0) -> bool:
    """True if a TCP connection to `address` succeeds within `timeout` seconds."""
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_reachable(addresses: Iterable[str], timeout: float, poll: float = 0.2) -> list[str]:
    """Poll until every address answers or `timeout` passes; returns those that never did."""
    missing = list(addresses)
    deadline_at = time.monotonic() + max(timeout, 0.0)
    while missing:
        missing = [a for a in missing if not reachable(a, timeout=min(1.0, poll * 5))]
        if not missing or time.monotonic() >= deadline_at:
            break
        time.sleep(poll)
    return missing


def hold_port(address: str) -> socket.socket:
    """Listen on our own port so peers can see us before TensorFlow's server starts.

    Peers only open their ports inside the strategy constructor, which then blocks forever
    if one never arrives; holding the port ourselves during the check breaks that circle.
    """
    _, port = split_address(address)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", port))
    sock.listen(64)
    return sock


# Sleeps, then prints the error unless its parent has gone (it is then re-parented).
DEADLINE_HELPER = ("import os, sys, time\n"
                   "parent = os.getppid()\n"
                   "time.sleep(float(sys.argv[1]))\n"
                   "if os.getppid() == parent:\n"
                   "    sys.stderr.write('error: ' + sys.argv[2] + '\\n')\n")
DEADLINE_GRACE_S = 1.0  # between the message and the exit


@contextlib.contextmanager
def deadline(seconds: float, message: str) -> Iterator[None]:
    """Print `message` and exit the process with code 1 if the block outlives `seconds`.

    For calls that block forever in C++ while holding the GIL (`MultiWorkerMirroredStrategy()`
    waiting for a peer that answered the port probe and then died, or something on its port
    that is not a TensorFlow worker): no Python thread or signal handler can end them. Two
    pieces that need no GIL do: a helper process prints the error when the time is up, and
    `faulthandler`'s C watchdog exits with code 1 a moment later. Nothing has been written
    yet, so that is safe.
    """
    helper = subprocess.Popen([sys.executable, "-c", DEADLINE_HELPER, str(seconds), message],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    with open(os.devnull, "w") as devnull:  # the users get the message, not a stack dump
        faulthandler.dump_traceback_later(seconds + DEADLINE_GRACE_S, exit=True, file=devnull)
        try:
            yield
        finally:
            faulthandler.cancel_dump_traceback_later()
            helper.kill()
            helper.wait()

"""MultiWorkerMirroredStrategy over --worker/--task-index or TF_CONFIG, peers checked first."""

from __future__ import annotations

from typing import Any

from mnist_cli.distribute.cluster import name_tasks, resolve_cluster, wait_for_peers
from mnist_cli.distribute.config import StrategyConfig
from mnist_cli.distribute.description import StrategyDescription, TaskRole
from mnist_cli.distribute.watchdog import deadline
from mnist_cli.tfenv import import_tf


def build(cfg: StrategyConfig, why: str) -> tuple[Any, StrategyDescription]:
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


def availability(devs: dict[str, list[str]], tf_config: Any) -> dict[str, dict[str, Any]]:
    return {"multi-worker": {"usable": bool(tf_config), "why": "TF_CONFIG is set" if tf_config
                             else "needs TF_CONFIG or --worker HOST:PORT ... --task-index"}}

"""Distribution strategies chosen by flag: default, one-device, mirrored, multi-worker, tpu.

`strategies` is the table and the auto rule, `cluster` the cluster/TPU addresses and bounded
connects, `devices` local device names, `report` the `mnist-cli env` content. TensorFlow is
imported only when a strategy is built, never by importing this package.
"""

from mnist_cli.distribute.cluster import Cluster, resolve_cluster
from mnist_cli.distribute.report import env_report
from mnist_cli.distribute.strategies import (
    NAMES,
    STRATEGIES,
    CrossDeviceOps,
    StrategyConfig,
    StrategyDescription,
    StrategyName,
    TaskRole,
    choices,
    is_multi_worker,
    make_strategy,
    run_dir_for,
    summary_line,
)

__all__ = ["NAMES", "STRATEGIES", "Cluster", "CrossDeviceOps", "StrategyConfig",
           "StrategyDescription", "StrategyName", "TaskRole", "choices", "env_report",
           "is_multi_worker", "make_strategy", "resolve_cluster", "run_dir_for", "summary_line"]

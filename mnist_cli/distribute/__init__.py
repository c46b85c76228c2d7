"""Distribution strategies chosen by flag: default, one-device, mirrored, multi-worker, tpu.

TensorFlow is imported only when a strategy is built, never by importing this package.
"""

from mnist_cli.distribute.cluster import Cluster, resolve_cluster
from mnist_cli.distribute.config import CrossDeviceOps, StrategyConfig, StrategyName
from mnist_cli.distribute.description import StrategyDescription, TaskRole
from mnist_cli.distribute.registry import STRATEGIES, choices
from mnist_cli.distribute.runtime import run_dir_for, summary_line
from mnist_cli.distribute.select import NAMES, make_strategy


def is_multi_worker(strategy: object) -> bool:
    """True for MultiWorkerMirroredStrategy (Keras 3 fit fails under it: use the custom loop)."""
    return "MultiWorker" in type(strategy).__name__ or "CollectiveAll" in type(strategy).__name__


__all__ = ["NAMES", "STRATEGIES", "Cluster", "CrossDeviceOps", "StrategyConfig",
           "StrategyDescription", "StrategyName", "TaskRole", "choices", "is_multi_worker",
           "make_strategy", "resolve_cluster", "run_dir_for", "summary_line"]

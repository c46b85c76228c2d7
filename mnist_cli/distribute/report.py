"""`mnist-cli env` content: versions, devices, usable strategies and why, TF_CONFIG."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

from mnist_cli.distribute.cluster import tf_config_env
from mnist_cli.distribute.strategies import STRATEGIES
from mnist_cli.errors import UsageError


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from mnist_cli.version import __version__

    found = {"mnist_cli": __version__, "python": sys.version.split()[0],
             "platform": platform.platform()}
    for name in ("tensorflow", "keras", "tensorflow-datasets", "numpy", "jax"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def devices() -> dict[str, list[str]]:
    from mnist_cli.backend import import_tf

    tf = import_tf()
    return {kind: [d.name for d in tf.config.list_logical_devices(kind)]
            for kind in ("CPU", "GPU", "TPU")}


def strategy_rows(devs: dict[str, list[str]], tf_config: Any) -> dict[str, dict[str, Any]]:
    """For each strategy in the table (some give more than one row): usable here or not, and
    why."""
    rows: dict[str, dict[str, Any]] = {}
    for strategy in STRATEGIES.values():
        rows.update(strategy.availability(devs, tf_config))
    return rows


def env_report() -> dict[str, Any]:
    """Everything a distributed-training bug report needs, as one JSON-able dict."""
    try:
        tf_config: Any = tf_config_env()
    except UsageError as exc:
        tf_config = {"invalid": os.environ.get("TF_CONFIG", ""), "error": str(exc)}
    devs = devices()
    env = {k: os.environ[k] for k in ("COLAB_TPU_ADDR", "TPU_NAME", "CUDA_VISIBLE_DEVICES")
           if k in os.environ}
    import mnist_cli.distribute.gpu as gpu
    from mnist_cli.backend import backends_report
    from mnist_cli.dependencies import pins

    found = gpu.probe()
    return {"versions": versions(), "pins": [p.to_dict() for p in pins()],
            "backend": backends_report(), "devices": devs,
            "gpu": {**found.to_dict(), "advice": gpu.advice(found, devs.get("GPU", []))},
            "strategies": strategy_rows(devs, tf_config), "tf_config": tf_config,
            "environment": env}

"""`mnist-cli env` content: versions, devices, usable strategies and why, TF_CONFIG."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

from mnist_cli.errors import UsageError
from mnist_cli.strategy.cluster import tf_config_env
from mnist_cli.strategy.tpu import tpu_address


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from mnist_cli.version import __version__

    found = {"mnist_cli": __version__, "python": sys.version.split()[0],
             "platform": platform.platform()}
    for name in ("tensorflow", "keras", "tensorflow-datasets", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def devices() -> dict[str, list[str]]:
    from mnist_cli.tfenv import import_tf

    tf = import_tf()
    return {kind: [d.name for d in tf.config.list_logical_devices(kind)]
            for kind in ("CPU", "GPU", "TPU")}


def strategies(devs: dict[str, list[str]], tf_config: Any) -> dict[str, dict[str, Any]]:
    """For each strategy: usable here or not, and why."""
    gpus, tpu = len(devs["GPU"]), tpu_address()
    many = gpus > 1 or len(devs["CPU"]) > 1
    return {
        "default": {"usable": True, "why": "always available (one device)"},
        "one-device": {"usable": True, "why": "--device /cpu:0" + (" or /gpu:0" if gpus else "")},
        "mirrored": {"usable": True, "why": f"over {gpus} GPUs" if gpus > 1 else
                     ("over the named --device list" if many else
                      "runs, but with 1 replica: no second GPU (or logical CPU) visible")},
        "mirrored+nccl": {"usable": gpus > 0, "why": "NCCL needs GPUs" if not gpus
                          else "GPUs visible"},
        "multi-worker": {"usable": bool(tf_config), "why": "TF_CONFIG is set" if tf_config else
                         "needs TF_CONFIG or --worker HOST:PORT ... --task-index"},
        "tpu": {"usable": bool(tpu or devs["TPU"]),
                "why": f"TPU address {tpu}" if tpu else
                ("TPU devices visible" if devs["TPU"] else
                 "no TPU: set --tpu, COLAB_TPU_ADDR or TPU_NAME")},
    }


def env_report() -> dict[str, Any]:
    """Everything a distributed-training bug report needs, as one JSON-able dict."""
    try:
        tf_config: Any = tf_config_env()
    except UsageError as exc:
        tf_config = {"invalid": os.environ.get("TF_CONFIG", ""), "error": str(exc)}
    devs = devices()
    env = {k: os.environ[k] for k in ("COLAB_TPU_ADDR", "TPU_NAME", "CUDA_VISIBLE_DEVICES")
           if k in os.environ}
    return {"versions": versions(), "devices": devs,
            "strategies": strategies(devs, tf_config), "tf_config": tf_config,
            "environment": env}

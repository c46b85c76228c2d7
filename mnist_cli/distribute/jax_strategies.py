"""Strategies under the JAX backend: one device, or data parallel over the local devices
through `keras.distribution.DataParallel`; TensorFlow-only strategies are refused (exit 2)
saying what to use instead.

A strategy here is a small object with what the rest of mnist-cli reads from a
`tf.distribute.Strategy`: `num_replicas_in_sync` and `scope()` (variables created in it are
replicated over the mesh). `make_strategy` is what `mnist_cli.distribute.make_strategy`
returns when the JAX backend is selected (it passes `StrategyDescription.of` in, so this
module never imports `mnist_cli.distribute`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from mnist_cli.backend import import_jax, import_keras
from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import ConfigError, UsageError

StrategyConfig = Any  # mnist_cli.distribute's: it calls in here, never the reverse
StrategyDescription = Any

DATA_PARALLEL = "data-parallel"
INSTEAD = {
    "mirrored": f"use --strategy {DATA_PARALLEL} (keras.distribution over the local devices), "
                "or {tf} for mirrored",
    "multi-worker": "multi-worker training runs on TensorFlow only: use {tf}, or --strategy "
                    f"{DATA_PARALLEL} on one machine",
    "tpu": "TPU training here goes through TensorFlow's TPUStrategy: use {tf}",
}
"""TensorFlow-only strategies and what to use on JAX instead ({tf}: how to pick TensorFlow)."""


def refusal(backend: str, cfg: StrategyConfig, key: str = "training.backend"
            ) -> UsageError | None:
    """The error for a strategy `backend` lacks (a TensorFlow-only one, or --worker, on JAX;
    data-parallel on TensorFlow), naming what to use; None when it has it. `key` is how the
    backend is chosen: the config key (train, compare) or `--backend` (evaluate, predict).
    Needs neither JAX nor TensorFlow, so it is checked before either loads."""
    workers = cfg.name == "auto" and cfg.workers
    name = "multi-worker" if workers else cfg.name
    sep = " " if key.startswith("-") else ": "
    if backend == "jax" and name in INSTEAD:
        flag = "--worker" if workers else f"--strategy {name}"
        return UsageError(f"{flag} on the jax backend: "
                          + INSTEAD[name].format(tf=f"{key}{sep}tensorflow"))
    if backend == "tensorflow" and name == DATA_PARALLEL:
        return UsageError(f"--strategy {DATA_PARALLEL} is the JAX backend's data parallelism: "
                          f"use {key}{sep}jax, or --strategy mirrored on TensorFlow")
    return None


class OneJaxDevice:
    """One device: jax's default, or the `--device` named (`/cpu:0`, `/gpu:1`, `cpu:0`)."""

    num_replicas_in_sync = 1

    def __init__(self, device: Any = None) -> None:
        self.device = device

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        jax = import_jax()
        with jax.default_device(self.device) if self.device else contextlib.nullcontext():
            yield


class DataParallel:
    """`keras.distribution.DataParallel` over `devices`: replicated variables, each batch
    split over the devices, gradients all-reduced by XLA."""

    def __init__(self, devices: list[Any]) -> None:
        keras = import_keras()
        self.devices = devices
        self.num_replicas_in_sync = len(devices)
        self.distribution = keras.distribution.DataParallel(devices=devices)

    def scope(self) -> contextlib.AbstractContextManager[Any]:
        return self.distribution.scope()


def find_device(name: str) -> Any:
    """A jax device from a TensorFlow-style name: `/cpu:0`, `/gpu:1`, `cpu:0`, `gpu`."""
    jax = import_jax()
    kind, _, index = name.lower().lstrip("/").replace("device:", "").partition(":")
    try:
        return jax.devices(kind)[int(index or 0)]
    except (RuntimeError, IndexError, ValueError):
        found = ", ".join(f"/{d.platform}:{d.id}" for d in jax.devices())
        raise UsageError(f"--device {name}: no such JAX device; devices here: {found}") from None


def local_devices(names: list[str]) -> list[Any]:
    """The named devices, else every accelerator, else every CPU device."""
    jax = import_jax()
    if names:
        return [find_device(n) for n in names]
    devices = jax.local_devices()
    accelerators = [d for d in devices if d.platform != "cpu"]
    return accelerators or devices


def choose_auto(cfg: StrategyConfig) -> tuple[str, str]:
    """Data parallel over more than one accelerator, else one device."""
    jax = import_jax()
    accelerators = [d for d in jax.local_devices() if d.platform != "cpu"]
    if len(accelerators) > 1:
        return DATA_PARALLEL, f"{len(accelerators)} accelerators visible"
    return "default", f"{len(accelerators) or 'no'} accelerator visible (JAX)"


def make_strategy(cfg: StrategyConfig, describe: Callable[..., StrategyDescription]
                  ) -> tuple[Any, StrategyDescription]:
    """The JAX strategy `cfg` names; TF-only ones are a UsageError saying what to use."""
    error = refusal("jax", cfg)
    if error is not None:
        raise error
    name, why = choose_auto(cfg) if cfg.name == "auto" else (cfg.name, "chosen by --strategy")
    if name == DATA_PARALLEL:
        devices = local_devices(cfg.devices)
        strategy: Any = DataParallel(devices)
        names = [f"/{d.platform}:{d.id}" for d in devices]
    elif name in ("default", "one-device"):
        device = find_device(cfg.devices[0]) if name == "one-device" and cfg.devices else None
        strategy = OneJaxDevice(device)
        names = [f"/{device.platform}:{device.id}"] if device else []
    else:
        raise UsageError(f"unknown strategy {name!r} for training.backend: jax; choose auto, "
                         f"default, one-device or {DATA_PARALLEL}")
    return strategy, describe(strategy, name, why, devices=names)


def default_strategy() -> Any:
    return OneJaxDevice()


def check_config(cfg: RunConfig) -> None:
    """What the JAX backend does not do, refused before anything runs (exit 2)."""
    if cfg.training.engine == "fit":
        raise ConfigError(["training.engine: fit is Keras model.fit on tf.data, TensorFlow "
                           "only; with training.backend: jax the fused engine trains (drop "
                           "training.engine, or set training.backend: tensorflow)"],
                          source=cfg.name)


def build(cfg: StrategyConfig, why: str) -> tuple[Any, StrategyDescription]:
    """The registry's entry for `data-parallel` under TensorFlow: refused, naming mirrored."""
    error = refusal("tensorflow", cfg)
    assert error is not None
    raise error


def availability(devs: dict[str, list[str]], tf_config: Any) -> dict[str, dict[str, Any]]:
    """The `env` row: usable with the JAX backend when JAX is installed."""
    import importlib.util

    if importlib.util.find_spec("jax") is None:
        return {DATA_PARALLEL: {"usable": False, "why": "needs JAX: pip install "
                                                         "'mnist-cli[jax]'"}}
    return {DATA_PARALLEL: {"usable": True, "why": "with training.backend: jax, over the "
                                                   "local devices (keras.distribution)"}}

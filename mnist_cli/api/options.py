"""Keyword arguments named like the flags -> the same Overrides / StrategyConfig the CLI builds.

Config flags are read from the `Overrides` dataclass itself, so a flag added there (and to
`FLAG_KEYS`) is accepted by the API with no change here; any other keyword is passed to the
command's flow if the flow takes it, and otherwise refused with a "did you mean".
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from mnist_cli.config import Overrides
from mnist_cli.config.load import suggest
from mnist_cli.distribute import CrossDeviceOps, StrategyConfig
from mnist_cli.errors import UsageError

OVERRIDE_KEYS = {f.name for f in fields(Overrides)}
# API keyword -> StrategyConfig field (the flags are singular: --device, --worker).
STRATEGY_KEYS = {"strategy": "name", "device": "devices", "cross_device_ops": "cross_device_ops",
                 "worker": "workers", "task_index": "task_index",
                 "connect_timeout": "connect_timeout", "tpu": "tpu"}


def as_list(value: Any) -> list[Any]:
    """A repeatable flag: one value or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def set_items(sets: Any) -> list[str]:
    """`sets` as ["training.epochs=3", ...]; a mapping {"training.epochs": 3} also works
    (values written as JSON, which the --set parser reads as YAML)."""
    if isinstance(sets, dict):
        return [f"{key}={json.dumps(value)}" for key, value in sets.items()]
    return [str(item) for item in as_list(sets)]


def overrides_from(options: dict[str, Any], extra_sets: list[str] | None = None) -> Overrides:
    """Pop every config flag out of `options` into an Overrides (None keeps the config's)."""
    given = {k: options.pop(k) for k in list(options) if k in OVERRIDE_KEYS}
    sets = [*(extra_sets or []), *set_items(given.pop("sets", None))]
    if given.get("image_shape") is not None:
        given["image_shape"] = [int(d) for d in given["image_shape"]]
    return Overrides(**given, sets=sets)


def strategy_from(options: dict[str, Any]) -> StrategyConfig:
    """Pop the strategy flags out of `options` (checked like the CLI checks them)."""
    given = {STRATEGY_KEYS[k]: options.pop(k) for k in list(options) if k in STRATEGY_KEYS}
    ops = str(getattr(given.get("cross_device_ops"), "value", given.get("cross_device_ops"))
              or "auto")
    if ops not in {o.value for o in CrossDeviceOps}:
        raise UsageError(f"--cross-device-ops {ops!r}: choose one of "
                         f"{', '.join(o.value for o in CrossDeviceOps)}")
    return StrategyConfig(
        name=str(given.get("name") or "auto"), devices=as_list(given.get("devices")),
        cross_device_ops=ops, workers=as_list(given.get("workers")),
        task_index=given.get("task_index"),
        connect_timeout=float(given.get("connect_timeout", 60.0)), tpu=given.get("tpu"))


# Flow parameters the API fills itself (never a user's keyword).
# (`fmt` is the API's `format`, named like the flag.)
FLOW_INTERNALS = {"callbacks", "callbacks_for", "command", "display_for", "fmt", "notify",
                  "plots", "progress", "progress_for"}
FLAGS = OVERRIDE_KEYS | set(STRATEGY_KEYS)


def flow_extras(command: str, options: dict[str, Any], flow: Callable[..., Any],
                api: Callable[..., Any], consumed: set[str] | frozenset[str] = frozenset()
                ) -> dict[str, Any]:
    """What is left in `options` must be a keyword the command's flow takes (`consumed`:
    the flag groups the command already took out, named in the error's list)."""
    known = set(inspect.signature(api).parameters) - {"options"}
    takes = {name for name, p in inspect.signature(flow).parameters.items()
             if p.kind is p.KEYWORD_ONLY and name not in FLOW_INTERNALS}
    for key in options:
        if key not in takes:
            valid = sorted(known | consumed | takes)
            raise UsageError(f"{command}(): unknown option {key!r}{suggest(key, valid)}; "
                             f"options: {', '.join(valid)}")
    return dict(options)


def command_line(command: str, options: dict[str, Any]) -> list[str]:
    """What metrics.json records as the command of an API call (defaults left out)."""
    def text(value: Any) -> str:
        name = getattr(value, "name", None)
        return f"<{type(value).__name__} {name}>" if hasattr(value, "to_dict") else repr(value)

    given = ", ".join(f"{k}={text(v)}" for k, v in options.items()
                      if v is not None and v is not False and v != [] and v != ())
    return [f"mnist_cli.{command}({given})"]

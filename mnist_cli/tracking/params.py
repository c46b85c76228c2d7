"""A config as MLflow params: nested keys flattened to dotted ones (`training.epochs`), each
value as its YAML/JSON text (`null`, `true`, `0.01`, `[28, 28]`; strings as they are), so a
param reads like the `--set` that would give it. The layer list is one param (JSON)."""

from __future__ import annotations

import json
from typing import Any

MAX_VALUE = 6000  # MLflow's limit on a param value


def text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(", ", ": "))


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """{"training": {"epochs": 3}} -> {"training.epochs": "3"}; empty mappings and lists
    stay one value."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = text(value)[:MAX_VALUE]
    return flat

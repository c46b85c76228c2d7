"""What the JAX subprocess scripts share: each scenario's result (or its error, so one
failure does not hide the others) recorded under its name, then written to OUT/results.json."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS: dict[str, Any] = {}


def scenario(func: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """Record `func()`'s result (or its error) and its seconds under its name."""
    start = time.perf_counter()
    try:
        RESULTS[func.__name__] = func()
    except BaseException as exc:  # noqa: BLE001 (reported, not swallowed: the test fails)
        RESULTS[func.__name__] = {"error": f"{type(exc).__name__}: {exc}",
                                  "traceback": traceback.format_exc()}
    RESULTS[func.__name__]["seconds"] = round(time.perf_counter() - start, 2)
    return func


def save(out: Path) -> None:
    (out / "results.json").write_text(json.dumps(RESULTS, indent=1, default=str))

"""Keras internals: its lazy TensorFlow module and its float64-to-float32 promotion table."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator
from typing import Any

from mnist_cli.compat.report import broken

LAZY_TF = "keras.src.utils.module_utils.tensorflow._available"
DTYPES = "keras.src.backend.common.dtypes"
PROMOTION = f"{DTYPES}.BIT64_TO_BIT32_DTYPE"


@contextlib.contextmanager
def tensorflow_unavailable() -> Iterator[None]:
    """Keras takes TensorFlow for absent for the duration (restored afterwards).

    Patches `keras.src.utils.module_utils.tensorflow`, a `LazyModule` whose `available`
    property caches its answer in `_available`: set to False. Why: Keras on JAX asks
    `tf.available` (which imports TensorFlow, ~5 s and ~640 MB) when it saves a model, seeds
    its generators or serialises a config, only to see whether an object could be a
    TensorFlow one; while TensorFlow is not imported, none can. The caller uses it only on
    JAX with TensorFlow not imported. Checked: Keras 3.15.1.

    Loud: the LazyModule or its `_available` cache missing, or TensorFlow imported during
    the block anyway (the ~5 s this exists to save)."""
    lazy = _lazy_tensorflow()
    if lazy is None:
        yield
        return
    saved = lazy.__dict__["_available"]
    lazy._available = False
    try:
        yield
    finally:
        lazy._available = saved
    if "tensorflow" in sys.modules:
        broken(LAZY_TF, "keras", "no longer stops Keras from importing TensorFlow",
               "this JAX run imported TensorFlow (~5 s, ~640 MB more)")


def _lazy_tensorflow() -> Any:
    """Keras's LazyModule for TensorFlow, checked, or None (nothing to patch or reported).
    Read through the instance's __dict__: a missing attribute on a LazyModule would import
    TensorFlow through its __getattr__."""
    if "keras" not in sys.modules:
        return None  # Keras is not loaded: nothing can ask
    try:
        utils = importlib.import_module("keras.src.utils.module_utils")
    except ImportError:
        utils = None
    lazy = getattr(utils, "__dict__", {}).get("tensorflow")
    if (lazy is None or "_available" not in getattr(lazy, "__dict__", {})
            or not isinstance(getattr(type(lazy), "available", None), property)):
        broken(LAZY_TF, "keras", "is missing or no longer a LazyModule's cache",
               "JAX runs may import TensorFlow (~5 s) when saving or seeding")
        return None
    return lazy


@contextlib.contextmanager
def float64_promoted() -> Iterator[None]:
    """Keras on JAX promotes float64 to float64 for the duration (restored afterwards).

    Patches `keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE["float64"]` (normally
    "float32"): set to "float64". Why: Keras on JAX maps every promoted float64 to float32
    "to be aligned with JAX's default behavior" (x64 off), so `ops.mean`, `ops.var`,
    `ops.logaddexp` & co. compute float64 inputs in float32 and cast back, even in x64 mode;
    the gradient check runs in x64 mode and needs float64 throughout. Checked: Keras 3.15.1.

    Loud: the module or table missing, or "float64" no longer mapped to a float name (the
    gradient check then sees the narrow steps and refuses: `narrower_than_float64`)."""
    table = _promotion_table()
    if table is None:
        yield
        return
    saved = table["float64"]
    table["float64"] = "float64"
    try:
        yield
    finally:
        table["float64"] = saved


def _promotion_table() -> dict[str, str] | None:
    try:
        dtypes = importlib.import_module(DTYPES)
    except ImportError:
        dtypes = None
    table = getattr(dtypes, "BIT64_TO_BIT32_DTYPE", None)
    if not isinstance(table, dict) or table.get("float64") not in ("float32", "float64"):
        broken(PROMOTION, "keras", "is missing or no longer maps float64 to float32",
               "float64 gradient checks on JAX may compute steps in float32")
        return None
    return table

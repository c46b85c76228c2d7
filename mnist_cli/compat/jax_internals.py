"""JAX internals: reading a config flag's current value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mnist_cli.compat.report import broken

_MISSING = object()


def config_value(config: Any, name: str) -> Any:
    """The current value of JAX config flag `name` (pass `jax.config`), or None if it cannot
    be read (reported).

    Reads `jax.config.values[name]`. Why: JAX offers `jax.config.update` to set a flag but no
    public getter for flags without a context manager of their own (e.g.
    `jax_disable_most_optimizations`), and a flag set for a while must be restored to what it
    was, not to its default. Checked: JAX 0.10.2.

    Loud: `values` missing, not a mapping, or without `name`."""
    values = getattr(config, "values", None)
    found = values.get(name, _MISSING) if isinstance(values, Mapping) else _MISSING
    if found is _MISSING:
        broken(f"jax.config.values[{name!r}]", "jax", "is missing",
               f"{name} is left as it is (slower model builds on JAX)")
        return None
    return found

"""The data-source registry: one line per source, in the order specs are tried (keywords
first, then files by name). Each line is `"module:ATTRIBUTE"` naming a `DataSource`, so
adding a source is one new module plus one line here; `mnist_cli.data.spec` does the rest
(dispatch, descriptions, the 'no such data' message)."""

from __future__ import annotations

import importlib
from functools import cache

from mnist_cli.data.source import DataSource

SOURCES = (
    "mnist_cli.data.builtin_sources:AUTO",
    "mnist_cli.data.builtin_sources:DIGITS",
    "mnist_cli.data.builtin_sources:TFDS",
    "mnist_cli.data.builtin_sources:CSV",
    "mnist_cli.data.builtin_sources:NPZ",
    "mnist_cli.data.builtin_sources:IDX",
)


@cache
def sources() -> tuple[DataSource, ...]:
    """Every registered source, in registry order."""
    found = []
    for entry in SOURCES:
        module, _, attr = entry.partition(":")
        found.append(getattr(importlib.import_module(module), attr))
    return tuple(found)


def keyword_sources() -> list[DataSource]:
    return [s for s in sources() if not s.on_disk]


def file_sources() -> list[DataSource]:
    return [s for s in sources() if s.on_disk]

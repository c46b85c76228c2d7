"""What each command does, once: the CLI (`mnist_cli.cli`) and the Python API (`mnist_cli.api`)
both call these flows, so a run directory is the same whichever wrote it.

A flow takes resolved inputs (a RunConfig, a StrategyConfig, a target directory), reports
status lines (rich markup) through a `notify` callable (the CLI prints them to stderr; the
API prints them only with progress=True) and
returns the core's typed result. It never prints and never imports `mnist_cli.cli`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

Notify = Callable[[str], None]
# Given the number of examples: a progress display to enter (or None) and what drives it
# (Keras callbacks, or for compare a function of the run's label giving them).
DisplayFor = Callable[[int], tuple[AbstractContextManager[Any] | None, Any]]


def silent(line: str) -> None:
    """The default `notify`: say nothing (the library API is quiet unless asked)."""

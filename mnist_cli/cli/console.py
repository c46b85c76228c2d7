"""Consoles and the error boundary between the core and the terminal."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from mnist_cli.errors import MnistCliError

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


class Mode:
    """How loud the current command is: --json and --quiet keep stdout for results only."""

    quiet: bool = False
    json: bool = False


def set_mode(*, quiet: bool = False, json_out: bool = False) -> None:
    Mode.quiet, Mode.json = quiet, json_out


def info(message: str) -> None:
    """A progress/status line on stderr (never pollutes --json stdout); hidden by --quiet."""
    if not Mode.quiet:
        err.print(message)


def notes(lines: list[str]) -> None:
    """Data notes (which data `auto` chose and how to get more), before training starts."""
    for line in lines:
        info(f"[yellow]note:[/] {escape(line)}")


def print_json(obj: Any) -> None:
    """Exactly one JSON document on stdout."""
    from mnist_cli.artifacts import _jsonable

    sys.stdout.write(json.dumps(obj, indent=2, default=_jsonable) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def guarded(func: F) -> F:
    """Turn the tool's exceptions into one error message and the right exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MnistCliError as exc:
            raise fail(exc.message, exc.exit_code) from None
        except KeyboardInterrupt as exc:  # mnist_cli.signals.Interrupted says how to resume
            raise fail(str(exc) or "interrupted", getattr(exc, "exit_code", 130)) from None

    return wrapper  # type: ignore[return-value]

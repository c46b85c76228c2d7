"""Consoles and the error boundary between the core and the terminal."""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from mnist_cli.display import Display, UncutTables, err
from mnist_cli.errors import MnistCliError
from mnist_cli.redact import redact
from mnist_cli.runs.faults import describe
from mnist_cli.runs.rundir import ERROR_LOG

out = Console(highlight=False)
out.push_render_hook(UncutTables())  # no table cuts a value, whatever the width

F = TypeVar("F", bound=Callable[..., Any])


def start(progress: str = "none", *, quiet: bool = False, json_out: bool = False,
          verbose: bool = False) -> Display:
    """Set TensorFlow's logging and return the command's display: --quiet and --json keep
    stdout for results and stderr for errors only (a bad --progress is exit 2 here, before
    anything runs)."""
    from mnist_cli.backend import set_verbose

    set_verbose(verbose)
    return Display(progress, quiet=quiet or json_out, on_run_dir=set_run_dir)


CLI_ONLY = ("json_out", "quiet", "verbose", "progress", "fail_under")


def api_keywords(params: dict[str, Any]) -> dict[str, Any]:
    """A command's parameters as its API function's keywords (flag and keyword share one
    name, tests/test_flags.py), less the flags that only decide what the CLI prints."""
    return {k: v for k, v in params.items() if k not in CLI_ONLY}


def print_json(obj: Any) -> None:
    """Exactly one JSON document on stdout."""
    from mnist_cli.runs.artifacts import _jsonable

    sys.stdout.write(json.dumps(obj, indent=2, default=_jsonable) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int) -> typer.Exit:
    """An `error:` line (a URL's password in it hidden), and the exit code."""
    return fail_lines([message], code)


def fail_lines(lines: list[str], code: int) -> typer.Exit:
    """Several independent errors (failed gates): one `error:` line each."""
    for line in lines:
        err.print(f"[bold red]error:[/] {escape(redact(line))}", soft_wrap=True)
    return typer.Exit(code)


def step_summary(markdown: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY when set; a summary that cannot be written is a
    warning, never the reason a good run fails."""
    from mnist_cli.cli.ci_summary import ENV, append

    try:
        append(markdown)
    except OSError as exc:
        where = exc.filename or os.environ.get(ENV)
        err.print(f"[yellow]warning:[/] cannot append the job summary to {escape(str(where))}"
                  f" ({ENV}): {escape(exc.strerror or str(exc))}", soft_wrap=True)


def finish_gates(gates: list[Any], metrics: dict[str, Any],
                 summary: Callable[[list[Any]], str] | None = None) -> None:
    """`--fail-under` on `metrics`, now that every artifact is written: the job summary
    `summary(results)` first (when given and GITHUB_STEP_SUMMARY is set), then exit 1
    naming each failed gate."""
    from mnist_cli.scoring.gates import enforce, evaluate_gates

    results = evaluate_gates(gates, metrics)
    if summary is not None:
        step_summary(summary(results))
    enforce(results)


class Context:
    """Where the current command writes, so an internal error can leave its traceback there."""

    run_dir: Path | None = None


def set_run_dir(path: Path | None) -> None:
    Context.run_dir = Path(path) if path is not None else None


def guarded(func: F) -> F:
    """Turn the tool's exceptions into one error message and the right exit code: user
    mistakes exit 2, failed runs and environment faults (full disk, vanished files) exit 1,
    and a bug in the tool is one `internal error:` line with the traceback kept in a file
    (shown inline with --verbose)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        Context.run_dir = None
        try:
            return func(*args, **kwargs)
        except MnistCliError as exc:
            if getattr(exc, "lines", None):
                raise fail_lines(exc.lines, exc.exit_code) from None
            raise fail(exc.cli_message, exc.exit_code) from None
        except KeyboardInterrupt as exc:  # mnist_cli.signals.Interrupted says how to resume
            raise fail(str(exc) or "interrupted", getattr(exc, "exit_code", 130)) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # stdout closed early (`| head`): not a fault
                raise
            raise fail(describe(exc, action="use"), 1) from None
        except Exception as exc:  # noqa: BLE001 - the boundary that keeps bugs to one line
            raise internal_error(exc, verbose=bool(kwargs.get("verbose"))) from None

    return wrapper  # type: ignore[return-value]


def internal_error(exc: BaseException, verbose: bool = False) -> typer.Exit:
    """`internal error: <one line> (please report it; full traceback in FILE)`, exit 1."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if verbose:
        sys.stderr.write(redact(text))
    where = save_traceback(text)
    first = (str(exc).strip().splitlines() or [""])[0]
    summary = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    kept = f"full traceback in {where}" if where else "run again with --verbose to see it"
    return fail(f"internal error: {summary} (please report it; {kept})", 1)


def save_traceback(text: str) -> Path | None:
    """RUN_DIR/error.log when the run directory exists, else a temp file; None if neither
    can be written (a full disk must not turn one error into another)."""
    run_dir = Context.run_dir
    try:
        if run_dir is not None and run_dir.is_dir():
            from mnist_cli.runs.artifacts import write_text

            return write_text(run_dir / ERROR_LOG, text)
        fd, name = tempfile.mkstemp(prefix="mnist-cli-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return Path(name)
    except OSError:
        return None

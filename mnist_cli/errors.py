"""The tool's own exceptions.

The core raises these; the CLI turns them into one line on stderr and an exit code,
so user mistakes never surface as tracebacks.
"""

from __future__ import annotations

from typing import Any


class MnistCliError(Exception):
    """Base class: a message for the user and the exit code that goes with it."""

    exit_code: int = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self)

    @property
    def cli_message(self) -> str:
        """The message as the CLI prints it (a ConfigError names flags, not keywords)."""
        return self.message


class UsageError(MnistCliError):
    """Bad flags or input the user can fix (exit 2)."""

    exit_code = 2


Origin = tuple[str, str | None]
"""Where a config value came from: (keyword, None) for a flag/keyword such as `optimizer`,
("sets", "training.epochs=0") for one `--set` item."""


def keyword_name(origin: Origin) -> str:
    """How the Python API names an origin: `keyword optimizer`, `sets item 'a.b=1'`."""
    key, item = origin
    return f"sets item {item!r}" if item is not None else f"keyword {key}"


def flag_name(origin: Origin) -> str:
    """How the CLI names an origin: `--optimizer`, `--set a.b=1`."""
    key, item = origin
    return f"--set {item}" if item is not None else "--" + key.replace("_", "-")


class ConfigError(UsageError):
    """One or more config problems, all reported together. A problem caused by a flag or
    keyword (`origins`, parallel to `problems`) is reported under that name rather than the
    config file's, so the message points at what to change."""

    def __init__(self, problems: list[str], source: str = "config",
                 origins: list[Origin | None] | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        self.origins = list(origins) if origins else [None] * len(self.problems)
        super().__init__(self.render(keyword_name))

    def render(self, name: Any) -> str:
        """The message, each problem prefixed by `name(origin)` where it has one; the file
        is named only when some problem is its own."""
        shown = [f"{name(o)}: {p}" if o else p
                 for p, o in zip(self.problems, self.origins, strict=True)]
        head = "" if all(self.origins) else f"{self.source}: "
        if len(shown) == 1:  # the common case stays one line
            return f"{head}{shown[0]}"
        lines = "\n".join(f"  - {p}" for p in shown)
        return f"{head}{len(shown)} problem(s):\n{lines}"

    @property
    def cli_message(self) -> str:
        return self.render(flag_name)


class DataError(UsageError):
    """Input data that cannot be used as given (exit 2)."""


class RunFailed(MnistCliError):
    """Training or evaluation ran but failed (exit 1)."""

    exit_code = 1

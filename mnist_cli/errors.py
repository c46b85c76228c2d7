"""The tool's own exceptions.

The core raises these; the CLI turns them into one line on stderr and an exit code,
so user mistakes never surface as tracebacks.
"""

from __future__ import annotations


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


class UsageError(MnistCliError):
    """Bad flags or input the user can fix (exit 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """One or more config problems, all reported together."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = list(problems)
        self.source = source
        if len(self.problems) == 1:  # the common case stays one line
            super().__init__(f"{source}: {self.problems[0]}")
            return
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s):\n{lines}")


class DataError(UsageError):
    """Input data that cannot be used as given (exit 2)."""


class RunFailed(MnistCliError):
    """Training or evaluation ran but failed (exit 1)."""

    exit_code = 1

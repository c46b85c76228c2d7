"""Environment faults (full disk, unwritable or vanished paths) as one line with the fix.

The operating system says *what* failed (`OSError.errno`, `.filename`); the user needs the
path and what to do about it. Before training these are `UsageError`s (exit 2), once a run
has started a `WriteFailed` (exit 1) that is still an `OSError` for callers that catch one.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from mnist_cli.errors import RunFailed

FIXES = {
    errno.ENOSPC: "free some space on that disk or choose a --run-dir on another one",
    errno.EDQUOT: "free some space (disk quota exceeded) or choose another --run-dir",
    errno.EACCES: "make it writable for this user or choose another --run-dir",
    errno.EPERM: "make it writable for this user or choose another --run-dir",
    errno.EROFS: "the file system is read-only; choose a --run-dir on a writable one",
    errno.ENOENT: "it was moved or removed while the command ran; keep it in place",
    errno.ENOTDIR: "a file is in the way where a directory is needed; move it or choose "
                   "another path",
    errno.EISDIR: "a directory is in the way where a file is needed; choose another path",
    errno.EEXIST: "something is already there; choose another path",
}


class WriteFailed(RunFailed, OSError):
    """A file could not be written once the run had started (exit 1)."""

    def __init__(self, message: str, code: int | None = None,
                 filename: str | None = None) -> None:
        RunFailed.__init__(self, message)
        self.errno, self.filename = code, filename

    def __str__(self) -> str:  # OSError's own would print `[Errno 28] None: ...`
        return str(self.args[0]) if self.args else ""


def describe(exc: OSError, path: Path | str | None = None, action: str = "write") -> str:
    """`cannot write runs/x/model.keras: No space left on device; free some space ...`."""
    if isinstance(exc, WriteFailed):
        return exc.message
    where = path if path is not None else (exc.filename or "a file")
    reason = exc.strerror or str(exc) or type(exc).__name__
    fix = FIXES.get(exc.errno or -1, "check the path and the disk, then run again")
    return f"cannot {action} {where}: {reason}; {fix}"


def write_failed(exc: OSError, path: Path | str) -> WriteFailed:
    """The `WriteFailed` to raise for an `OSError` while writing `path`."""
    if isinstance(exc, WriteFailed):
        return exc
    return WriteFailed(describe(exc, path), exc.errno, os.fspath(path))

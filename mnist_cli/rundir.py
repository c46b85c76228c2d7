"""Run directories: one new folder per run, never reused by accident."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from mnist_cli.errors import UsageError
from mnist_cli.faults import describe

DEFAULT_ROOT = Path("runs")
BACKUP_DIR = "backup"  # the epoch backup `--resume` restarts from, removed when a run completes
KERAS_BACKUP = "keras"


def keras_backup_dir(run_dir: Path) -> Path:
    return Path(run_dir) / BACKUP_DIR / KERAS_BACKUP
MIN_FREE_BYTES = 256 * 1024  # less cannot hold even the smallest model and its backup


def timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def new_run_dir(name: str, run_dir: Path | None = None, root: Path = DEFAULT_ROOT) -> Path:
    """Pick (but do not create) a fresh run directory; refuse an existing one."""
    if run_dir is not None:
        run_dir = Path(run_dir)
        if run_dir.exists() and not run_dir.is_dir():
            raise UsageError(f"--run-dir {run_dir} is an existing file, not a directory; "
                             "choose a new directory name")
        if run_dir.exists() and any(run_dir.iterdir()):
            raise UsageError(
                f"run directory {run_dir} already exists and is not empty; "
                "choose another --run-dir (runs are never overwritten)"
            )
        return run_dir
    base = root / f"{name}-{timestamp()}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def check_writable(path: Path, min_free: int = MIN_FREE_BYTES) -> None:
    """Fail before training if the run directory cannot be created and written: its nearest
    existing ancestor must be a writable directory (tried with a real temp file, since root
    passes every permission check) with some free space."""
    parent = Path(path)
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"cannot create {path}: {parent} is a file, not a directory; "
                         "choose another --run-dir")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
        free = shutil.disk_usage(parent).free
    except OSError as exc:
        raise UsageError(describe(exc, parent)) from None
    if free < min_free:
        raise UsageError(f"cannot write under {parent}: only {free / 1024:.0f} KiB free on "
                         "that disk; free some space or choose a --run-dir on another one")

"""Run directories: one new folder per run, never reused by accident."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from mnist_cli.errors import UsageError

DEFAULT_ROOT = Path("runs")


def timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def new_run_dir(name: str, run_dir: Path | None = None, root: Path = DEFAULT_ROOT) -> Path:
    """Pick (but do not create) a fresh run directory; refuse an existing one."""
    if run_dir is not None:
        run_dir = Path(run_dir)
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


def check_writable(path: Path) -> None:
    """Fail before training if the run directory cannot be created/written."""
    parent = Path(path)
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write under {parent}: choose a writable --run-dir")

"""Where a command writes: a fresh run directory, or an interrupted one to resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_cli.config import RunConfig
from mnist_cli.display import Display
from mnist_cli.runs.lock import refuse_if_busy
from mnist_cli.runs.rundir import check_writable, new_run_dir


def new_target(name: str, run_dir: str | Path | None) -> Path:
    """A fresh run directory (an existing non-empty one is refused, one being written by
    another process with that process named), checked writable."""
    refuse_if_busy(Path(run_dir) if run_dir is not None else None)
    target = new_run_dir(name, Path(run_dir) if run_dir is not None else None)
    check_writable(target)
    return target


def resume_target(run_dir: Path, conflicts: dict[str, Any],
                  ui: Display) -> tuple[RunConfig, Path]:
    """The saved config of an interrupted run (refusing config flags, and a run still
    being written by another process) and its directory."""
    refuse_if_busy(run_dir)
    from mnist_cli.training.resume import completed_epochs, load_resume_config, refuse_conflicts

    refuse_conflicts(run_dir, conflicts)
    cfg = load_resume_config(run_dir)
    check_writable(run_dir)
    ui.notify(f"resuming {run_dir} at epoch {completed_epochs(run_dir) + 1} of "
              f"{cfg.training.epochs}")
    return cfg, Path(run_dir)

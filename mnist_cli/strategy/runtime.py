"""What a command does around a strategy: one status line, and chief-only run directories."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def summary_line(desc: dict[str, Any], batch_per_replica: int) -> str:
    """'strategy mirrored (chosen by --strategy): 2 replicas, batch 32 per replica, global 64'."""
    replicas = int(desc["replicas"])
    line = (f"strategy {desc['name']} ({desc['why']}): {replicas} replica(s), batch "
            f"{batch_per_replica} per replica, global batch {batch_per_replica * replicas}")
    if "task" in desc:
        role = "chief" if desc.get("is_chief") else "non-chief, run directory discarded"
        line += f"; task {desc['task']['type']} {desc['task']['index']} ({role})"
    return line


@contextmanager
def run_dir_for(desc: dict[str, Any], target: Path) -> Iterator[Path]:
    """`target` on the chief; a temporary directory, removed afterwards, on other workers
    (they must still write checkpoints for the collective ops, but nobody keeps them)."""
    if desc.get("is_chief", True):
        yield Path(target)
        return
    tmp = Path(tempfile.mkdtemp(prefix="mnist-cli-worker-"))
    try:
        yield tmp / "run"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

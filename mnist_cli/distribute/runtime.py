"""What a command does around a strategy: one status line, and chief-only run directories."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mnist_cli.distribute.description import StrategyDescription


def summary_line(desc: StrategyDescription, batch_per_replica: int) -> str:
    """'strategy mirrored (chosen by --strategy): 2 replicas, batch 32 per replica, global 64'."""
    replicas = desc.replicas
    line = (f"strategy {desc.name} ({desc.why}): {replicas} replica(s), batch "
            f"{batch_per_replica} per replica, global batch {batch_per_replica * replicas}")
    if desc.task is not None:
        role = "chief" if desc.is_chief else "non-chief, run directory discarded"
        line += f"; task {desc.task.type} {desc.task.index} ({role})"
    return line


@contextmanager
def run_dir_for(desc: StrategyDescription, target: Path) -> Iterator[Path]:
    """`target` on the chief; a temporary directory, removed afterwards, on other workers
    (they must still write checkpoints for the collective ops, but nobody keeps them)."""
    if desc.is_chief:
        yield Path(target)
        return
    tmp = Path(tempfile.mkdtemp(prefix="mnist-cli-worker-"))
    try:
        yield tmp / "run"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

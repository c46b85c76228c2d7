"""RUN_DIR/mlflow.json: which MLflow run (per tracking server) a run directory was logged
to, so `--resume` continues that run and `mnist-cli log` completes it instead of making a
second one. Servers are keyed by their URI without its credentials (none is written, and
the same server is the same whoever logs in)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mnist_cli.redact import server_of
from mnist_cli.runs.artifacts import write_json
from mnist_cli.runs.rundir import MLFLOW


def server_key(uri: str) -> str:
    """`http://alice:pw@host:5000` -> `http://host:5000`."""
    return server_of(uri)


def read_runs(run_dir: Path) -> list[dict[str, Any]]:
    """The recorded runs (none when the file is missing or unreadable)."""
    try:
        data = json.loads((Path(run_dir) / MLFLOW).read_text(encoding="utf-8"))
        runs = data.get("runs", [])
        return [r for r in runs if isinstance(r, dict) and "run_id" in r]
    except (OSError, ValueError, AttributeError):
        return []


def recorded_run(run_dir: Path, uri: str) -> str | None:
    """The MLflow run id recorded for this server, if any."""
    key = server_key(uri)
    for entry in read_runs(run_dir):
        if entry.get("tracking_uri") == key:
            return str(entry["run_id"])
    return None


def record_run(run_dir: Path, uri: str, experiment_id: str, run_id: str) -> None:
    """Record (or replace) this server's run id for `run_dir`."""
    key = server_key(uri)
    runs = [r for r in read_runs(run_dir) if r.get("tracking_uri") != key]
    runs.append({"tracking_uri": key, "experiment_id": experiment_id, "run_id": run_id})
    write_json(Path(run_dir) / MLFLOW, {"runs": runs})

"""Run directories: one new folder per run, never reused by accident; every file name in
it, and metrics.json's schema with its one writer and reader (docs/run-directory.md
has the table of both), so an artifact is added or renamed in one place."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mnist_cli.errors import DataError, UsageError
from mnist_cli.runs.artifacts import write_json
from mnist_cli.runs.faults import describe

DEFAULT_ROOT = Path("runs")

# Files and folders of a run directory (train, evaluate, gradcheck, compare).
CONFIG = "config.yaml"  # the resolved config, written before the first step
MODEL = "model.keras"  # the trained model (the kept epoch's weights)
HISTORY = "history.csv"  # per-epoch loss/accuracy
CURVES = "curves.png"  # learning curves
METRICS = "metrics.json"  # the run's record; schema below
LAST_GOOD = "last_good.keras"  # weights of the last finite epoch of a diverged run
EVALUATION = "evaluation.json"  # `evaluate`'s numbers
CONFUSION = "confusion_matrix.png"  # `evaluate`'s confusion matrix
ERRORS = "errors.png"  # `evaluate`'s misclassified examples
GRADCHECK = "gradcheck.json"  # `gradcheck --run-dir`
SPLIT = "split.json"  # the split seed and each split's fingerprint, written before training
MLFLOW = "mlflow.json"  # the MLflow run(s) this directory was logged to (`--mlflow`, `log`)
ERROR_LOG = "error.log"  # the traceback of an unexpected error
LOCK = ".lock"  # held (flock) by the one process writing the directory; see runs/lock.py
TENSORBOARD = "tensorboard"  # TensorBoard logs (folder)
BACKUP_DIR = "backup"  # the epoch backup `--resume` restarts from, removed when a run completes
KERAS_BACKUP = "keras"
COMPARISON = {kind: f"comparison.{kind}" for kind in ("json", "csv", "png")}  # compare dir

# metrics.json: bump when a key changes meaning or goes; runs without the key are version 0.
METRICS_SCHEMA_VERSION = 1
SCHEMA_KEY = "schema_version"


def keras_backup_dir(run_dir: Path) -> Path:
    return Path(run_dir) / BACKUP_DIR / KERAS_BACKUP


def write_metrics(run_dir: Path, record: dict[str, Any]) -> Path:
    """The one writer of metrics.json (completed, failed, interrupted): the record with the
    current `schema_version` first, written atomically."""
    body = {SCHEMA_KEY: METRICS_SCHEMA_VERSION,
            **{k: v for k, v in record.items() if k != SCHEMA_KEY}}
    return write_json(Path(run_dir) / METRICS, body)


def read_metrics(run_dir: Path) -> dict[str, Any]:
    """metrics.json of `run_dir`, from any version (no `schema_version`: version 0, whose keys
    are today's). OSError/ValueError propagate: callers word them for their command."""
    record = json.loads((Path(run_dir) / METRICS).read_text(encoding="utf-8"))
    if not isinstance(record, dict):
        raise ValueError("metrics.json is not a JSON object")
    record.setdefault(SCHEMA_KEY, 0)
    return record


def write_split(run_dir: Path, description: Any) -> Path:
    """Record how the run's data was split, so every later reader can rebuild it exactly."""
    record = {"source": description.source, "sha256": description.sha256,
              "split_seed": description.split_seed, "fingerprints": description.fingerprints}
    return write_json(Path(run_dir) / SPLIT, record)


def check_split(run_dir: Path | None, description: Any, names: tuple[str, ...],
                fix: str) -> None:
    """Refuse (exit 2) a rebuilt split that differs from the one the run recorded in
    split.json: scoring it would give a number about other data. Runs written before
    split.json existed have nothing to check against."""
    path = None if run_dir is None else Path(run_dir) / SPLIT
    if path is None or not path.is_file():
        return
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))["fingerprints"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: cannot be read ({exc}); {fix}") from None
    changed = [n for n in names
               if n in recorded and recorded[n] != description.fingerprints.get(n)]
    if changed:
        raise DataError(
            f"{run_dir}: the {' and '.join(changed)} split rebuilt from {description.source} "
            f"(split seed {description.split_seed}) differs from the one this run recorded "
            f"in {SPLIT}: the data changed or was split differently; {fix}")


MIN_FREE_BYTES = 256 * 1024  # less cannot hold even the smallest model and its backup


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
    base = root / f"{name}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
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

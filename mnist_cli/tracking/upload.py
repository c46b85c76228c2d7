"""One finished (or failed, or interrupted) run directory -> one MLflow run, idempotently.

What is already on the server is read first and only what is missing is sent: params not yet
logged, metric steps not yet in each history, test metrics once. Tags are set (setting one
twice is harmless) and artifacts are uploaded again (same path: replaced, never doubled). So
`mnist-cli log` twice, or after a run whose server went away mid-way, completes the run
without duplicate runs or metric points. Text artifacts go up redacted (metrics.json holds
the command line). Every failure is caught and named in `Tracker.problems`.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from mnist_cli.redact import redact, redacted
from mnist_cli.runs import rundir
from mnist_cli.tracking.client import LOG_LIMITS, Tracker, limits, reason, unreachable
from mnist_cli.tracking.params import flatten
from mnist_cli.tracking.record import record_run, recorded_run

EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
TEST_METRICS = ("test_loss", "test_accuracy", "balanced_accuracy")
STATUS = {"completed": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
TEXT_FILES = (rundir.CONFIG, rundir.METRICS, rundir.HISTORY, rundir.SPLIT, rundir.EVALUATION,
              rundir.GRADCHECK)
BINARY_FILES = (rundir.MODEL, rundir.LAST_GOOD)
BATCH = 100  # MLflow's limit of params/tags per log_batch call
TAG = "mnist_cli."


def attempt(tracker: Tracker, what: str, action: Callable[[], Any]) -> Any:
    """Run one logging step; a failure is recorded as `what` not logged (never raised).
    Once the server is unreachable the remaining steps are skipped, not each retried."""
    if tracker.down:
        tracker.problems.append(what)
        return None
    try:
        with limits(LOG_LIMITS):
            return action()
    except Exception as exc:  # the server went away, refused a value, a full disk...
        tracker.problems.append(f"{what} ({reason(exc)})")
        tracker.down = tracker.down or unreachable(exc)
        return None


def read_history(run_dir: Path) -> list[dict[str, float]]:
    """history.csv rows as {"epoch": n, "loss": ...} (none when absent)."""
    path = Path(run_dir) / rundir.HISTORY
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return [{k: float(v) for k, v in row.items() if v not in (None, "")}
                for row in csv.DictReader(f)]


def read_config(run_dir: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load((Path(run_dir) / rundir.CONFIG).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return raw if isinstance(raw, dict) else {}


def run_tags(run_dir: Path, record: dict[str, Any]) -> dict[str, str]:
    """Where a run came from: backend, strategy, engine, seed, version, data and split."""
    from mnist_cli.version import __version__

    try:
        split = json.loads((Path(run_dir) / rundir.SPLIT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        split = {}
    dataset = record.get("dataset") or {}
    tags: dict[str, Any] = {
        "backend": record.get("backend"),
        "strategy": (record.get("strategy") or {}).get("name"),
        "engine": (record.get("engine") or {}).get("name"),
        "seed": record.get("seed"),
        "version": (record.get("versions") or {}).get("mnist_cli", __version__),
        "status": record.get("status"),
        "data_source": split.get("source") or dataset.get("source"),
        "data_sha256": split.get("sha256") or dataset.get("sha256"),
        "split_seed": split.get("split_seed", dataset.get("split_seed")),
        "run_dir": str(Path(run_dir).resolve()),
    }
    prints = split.get("fingerprints") or dataset.get("fingerprints") or {}
    tags.update({f"split.{name}": value for name, value in prints.items()})
    return {TAG + k: redact(str(v)) for k, v in tags.items() if v is not None}


def find_or_create(tracker: Tracker, run_dir: Path, *, run_id: str | None = None,
                   parent_id: str | None = None, name: str | None = None) -> str:
    """The MLflow run of `run_dir`: given, recorded in mlflow.json (if it still exists on
    the server), or a new one named after the directory. Raises when the server fails."""
    from mlflow.entities import LifecycleStage

    run_id = run_id or recorded_run(run_dir, tracker.uri)
    if run_id is not None:
        try:
            with limits(LOG_LIMITS):
                found = tracker.client.get_run(run_id)
            if found.info.lifecycle_stage != LifecycleStage.DELETED:
                return run_id
        except Exception as exc:  # a run deleted for good (gc) is made again; others raise
            if getattr(exc, "error_code", None) != "RESOURCE_DOES_NOT_EXIST":
                raise
    tags = {"mlflow.parentRunId": parent_id} if parent_id else {}
    with limits(LOG_LIMITS):
        run = tracker.client.create_run(tracker.experiment_id, run_name=name or run_dir.name,
                                        tags=tags)
    return str(run.info.run_id)


def open_run(tracker: Tracker, run_dir: Path, **found: Any) -> str | None:
    """The MLflow run of `run_dir` (`find_or_create` with `found`), recorded in its
    mlflow.json; None when the server failed (named in `tracker.problems`)."""
    run_id = attempt(tracker, f"the run of {run_dir}",
                     lambda: find_or_create(tracker, run_dir, **found))
    if run_id is not None:
        try:
            record_run(run_dir, tracker.uri, tracker.experiment_id, run_id)
        except OSError as exc:
            tracker.problems.append(f"{rundir.MLFLOW} in {run_dir} ({exc})")
    return run_id


def missing_metrics(tracker: Tracker, run_id: str, wanted: dict[str, dict[int, float]]
                    ) -> list[Any]:
    """Metric points of `wanted` ({key: {step: value}}) not yet in the run's histories."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    points = []
    for key, steps in wanted.items():
        have = {m.step for m in tracker.client.get_metric_history(run_id, key)}
        points += [Metric(key, value, now, step) for step, value in sorted(steps.items())
                   if step not in have]
    return points


def log_params(tracker: Tracker, run_id: str, params: dict[str, str]) -> None:
    """Params not logged yet (MLflow refuses to change one: a different value is named)."""
    from mlflow.entities import Param

    logged = tracker.client.get_run(run_id).data.params
    changed = [k for k, v in params.items() if k in logged and logged[k] != v]
    todo = [Param(k, v) for k, v in params.items() if k not in logged]
    for i in range(0, len(todo), BATCH):
        tracker.client.log_batch(run_id, params=todo[i:i + BATCH])
    if changed:
        tracker.problems.append(f"params {', '.join(changed)} (already logged with other "
                                "values; MLflow params cannot change)")


def log_tags(tracker: Tracker, run_id: str, tags: dict[str, str]) -> None:
    from mlflow.entities import RunTag

    items = [RunTag(k, v) for k, v in tags.items()]
    for i in range(0, len(items), BATCH):
        tracker.client.log_batch(run_id, tags=items[i:i + BATCH])


def log_metrics(tracker: Tracker, run_id: str, wanted: dict[str, dict[int, float]]) -> None:
    points = missing_metrics(tracker, run_id, wanted)
    for i in range(0, len(points), 1000):
        tracker.client.log_batch(run_id, metrics=points[i:i + 1000])


def epoch_metrics(history: list[dict[str, float]]) -> dict[str, dict[int, float]]:
    """{key: {epoch: value}} of history.csv (step = epoch, 1-based, as the file has it)."""
    wanted: dict[str, dict[int, float]] = {}
    for row in history:
        for key, value in row.items():
            if key != "epoch":
                wanted.setdefault(key, {})[int(row["epoch"])] = value
    return wanted


def final_metrics(record: dict[str, Any]) -> dict[str, dict[int, float]]:
    """The test metrics of a completed run, one point each (step 0)."""
    return {k: {0: float(record[k])} for k in TEST_METRICS
            if isinstance(record.get(k), int | float) and math.isfinite(float(record[k]))}


def upload_files(tracker: Tracker, run_id: str, run_dir: Path, names: list[str],
                 artifact_path: str | None = None) -> None:
    """Upload the files of `run_dir` named (those present), text ones redacted."""
    present = [n for n in names if (Path(run_dir) / n).is_file()]
    with tempfile.TemporaryDirectory(prefix="mnist-cli-mlflow-") as tmp:
        for name in present:
            source = Path(run_dir) / name
            if name.endswith((".json", ".yaml", ".csv", ".txt")):
                text = source.read_text(encoding="utf-8", errors="replace")
                clean = Path(tmp) / name
                clean.write_text(redact(text), encoding="utf-8")
                source = clean
            attempt(tracker, f"artifact {name}",
                    lambda s=source: tracker.client.log_artifact(run_id, str(s), artifact_path))


def run_files(run_dir: Path) -> list[str]:
    """The artifacts of a run directory: text records, plots, model."""
    pngs = sorted(p.name for p in Path(run_dir).glob("*.png"))
    return [*TEXT_FILES, *pngs, *BINARY_FILES]


def upload_run(tracker: Tracker, run_dir: Path, *, run_id: str | None = None,
               parent_id: str | None = None, name: str | None = None,
               extra_tags: dict[str, str] | None = None, finish: bool = True) -> str | None:
    """Log `run_dir` completely to its MLflow run (created if needed); the run id, or None
    when even finding/creating the run failed. `finish`: set the run's end status from
    metrics.json's `status` (RUNNING while no record exists)."""
    run_dir = Path(run_dir)
    run_id = open_run(tracker, run_dir, run_id=run_id, parent_id=parent_id, name=name)
    if run_id is None:
        epochs = len(read_history(run_dir))
        files = [n for n in run_files(run_dir) if (run_dir / n).is_file()]
        tracker.problems.append(f"params, tags, per-epoch metrics (epochs 1-{epochs}), test "
                                f"metrics, artifacts {', '.join(files)}")
        return None
    try:
        record = rundir.read_metrics(run_dir)
    except (OSError, ValueError):
        record = {}
    params = flatten(redacted(read_config(run_dir)))
    attempt(tracker, "params", lambda: log_params(tracker, run_id, params))
    tags = {**run_tags(run_dir, record), **(extra_tags or {})}
    if parent_id:
        tags["mlflow.parentRunId"] = parent_id
    attempt(tracker, "tags", lambda: log_tags(tracker, run_id, tags))
    history = read_history(run_dir)
    attempt(tracker, f"per-epoch metrics (epochs 1-{len(history)})",
            lambda: log_metrics(tracker, run_id, epoch_metrics(history)))
    attempt(tracker, "test metrics",
            lambda: log_metrics(tracker, run_id, final_metrics(record)))
    upload_files(tracker, run_id, run_dir, run_files(run_dir))
    status = STATUS.get(str(record.get("status")))
    if finish and status:
        attempt(tracker, f"run status {status}",
                lambda: tracker.client.set_terminated(run_id, status))
    return run_id

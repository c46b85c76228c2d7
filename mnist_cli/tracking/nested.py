"""A comparison or a tuning study as a parent MLflow run with one child per sub-run, built
from the finished directories (so sub-runs trained in worker processes are logged the same
way). Children are found again by their own mlflow.json or their tag under the parent, so
logging twice adds nothing.

- compare: the parent holds comparison.json/.csv/.png, the statistics' sentences (also its
  description in the UI) and each variant's mean test accuracy; one child per variant x seed.
- tune: the parent holds trials.csv, tune.json, best.yaml, the plots, the best config's run
  (under `best/`) and its test metrics; one child per trial, pruned and failed ones too,
  with their state and reason.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from pathlib import Path

from mnist_cli.redact import redact
from mnist_cli.runs.rundir import COMPARISON
from mnist_cli.tracking.client import Tracker
from mnist_cli.tracking.params import text
from mnist_cli.tracking.upload import (
    TAG,
    attempt,
    log_metrics,
    log_params,
    log_tags,
    open_run,
    run_files,
    upload_files,
    upload_run,
)
from mnist_cli.tuning import outputs as tune_files
from mnist_cli.tuning.objective import TRIALS_DIR

TRIAL_STATUS = {"complete": "FINISHED", "pruned": "KILLED", "fail": "FAILED"}
NOTE = "mlflow.note.content"  # the run's description in the MLflow UI


def metric_key(name: str) -> str:
    """A variant name as a valid MLflow metric key."""
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", name)


def log_text(tracker: Tracker, run_id: str, name: str, body: str) -> None:
    """A text artifact made here (redacted), e.g. the statistics' sentences."""
    with tempfile.TemporaryDirectory(prefix="mnist-cli-mlflow-") as tmp:
        path = Path(tmp) / name
        path.write_text(redact(body), encoding="utf-8")
        attempt(tracker, f"artifact {name}",
                lambda: tracker.client.log_artifact(run_id, str(path)))


def upload_comparison(tracker: Tracker, compare_dir: Path, run_id: str | None = None) -> str | None:
    """Log a compare directory: parent + one child per variant x seed; the parent's id."""
    from mnist_cli.comparison.report import sentences

    compare_dir = Path(compare_dir)
    summary = json.loads((compare_dir / COMPARISON["json"]).read_text(encoding="utf-8"))
    parent = open_run(tracker, compare_dir, run_id=run_id)
    if parent is None:
        return None
    for variant in summary["variants"]:
        for run in variant.get("runs", []):
            sub = compare_dir / Path(str(run["run_dir"])).name
            tags = {TAG + "variant": variant["name"], TAG + "seed": str(run["seed"])}
            if run.get("error"):
                tags[TAG + "error"] = redact(str(run["error"]))[:5000]
            upload_run(tracker, sub, parent_id=parent, extra_tags=tags)
    said = sentences(summary)
    params = {"variants": ", ".join(v["name"] for v in summary["variants"]),
              "seeds": text(summary.get("seeds")), "repeats": text(summary.get("repeats")),
              "ranked_by": str(summary.get("ranked_by"))}
    attempt(tracker, "params", lambda: log_params(tracker, parent, params))
    tags = {TAG + "kind": "compare", TAG + "winner": str(summary.get("winner")),
            TAG + "status": str(summary.get("status")),
            TAG + "run_dir": str(compare_dir.resolve()),
            NOTE: "\n\n".join([str(summary.get("ranking", "")), *said])}
    attempt(tracker, "tags", lambda: log_tags(tracker, parent, tags))
    means = {f"{metric_key(v['name'])}.{key}": {0: float(v[key])}
             for v in summary["variants"] for key in ("test_accuracy", "val_accuracy")
             if isinstance(v.get(key), int | float)}
    attempt(tracker, "variant metrics", lambda: log_metrics(tracker, parent, means))
    upload_files(tracker, parent, compare_dir, list(COMPARISON.values()))
    log_text(tracker, parent, "statistics.txt", "\n".join([str(summary.get("ranking", "")),
                                                           *said]) + "\n")
    status = "FINISHED" if summary.get("status") == "completed" else "FAILED"
    attempt(tracker, "run status", lambda: tracker.client.set_terminated(parent, status))
    return parent


def trial_children(tracker: Tracker, parent: str) -> dict[str, str]:
    """Trial number -> run id of the children already under `parent`."""
    found: dict[str, str] = {}
    token = None
    while True:
        page = tracker.client.search_runs([tracker.experiment_id],
                                          f"tags.mlflow.parentRunId = '{parent}'",
                                          max_results=1000, page_token=token)
        for run in page:
            number = run.data.tags.get(TAG + "trial")
            if number is not None:
                found[number] = run.info.run_id
        token = page.token
        if not token:
            return found


SAMPLED_SKIP = {"number", "state", "value", "duration_s", "epochs_run", "fail_reason",
                "started", "completed", "worker", "run_dir"}


def upload_trial(tracker: Tracker, tune_dir: Path, parent: str, row: dict[str, str],
                 known: dict[str, str], metric: str) -> None:
    """One trial as a child: its run directory when it has one, its sampled values
    (params `space.KEY`), its objective value, state and failure reason."""
    number = row["number"]
    tags = {TAG + "trial": number, TAG + "trial_state": row["state"]}
    if row.get("fail_reason"):
        tags[TAG + "fail_reason"] = redact(row["fail_reason"])[:5000]
    sub = tune_dir / TRIALS_DIR / number
    run_id = known.get(number)
    if (sub / "config.yaml").is_file():
        run_id = upload_run(tracker, sub, run_id=run_id, parent_id=parent,
                            name=f"trial-{number}", extra_tags=tags, finish=False)
    else:
        run_id = run_id or attempt(tracker, f"trial {number}", lambda: tracker.client.create_run(
            tracker.experiment_id, run_name=f"trial-{number}",
            tags={"mlflow.parentRunId": parent}).info.run_id)
        if run_id is not None:
            attempt(tracker, f"trial {number} tags", lambda: log_tags(tracker, run_id, tags))
    if run_id is None:
        return
    sampled = {f"space.{k}": v for k, v in row.items() if k not in SAMPLED_SKIP and v != ""}
    attempt(tracker, f"trial {number} params", lambda: log_params(tracker, run_id, sampled))
    if row.get("value"):
        value = {f"objective.{metric}": {0: float(row["value"])}}
        attempt(tracker, f"trial {number} value", lambda: log_metrics(tracker, run_id, value))
    status = TRIAL_STATUS.get(row["state"])
    if status:
        attempt(tracker, f"trial {number} status",
                lambda: tracker.client.set_terminated(run_id, status))


def upload_study(tracker: Tracker, tune_dir: Path, run_id: str | None = None) -> str | None:
    """Log a tune directory: parent + one child per trial; the parent's id."""
    tune_dir = Path(tune_dir)
    summary = json.loads((tune_dir / tune_files.SUMMARY).read_text(encoding="utf-8"))
    parent = open_run(tracker, tune_dir, run_id=run_id)
    if parent is None:
        return None
    metric = str(summary.get("metric", "value"))
    known = attempt(tracker, "existing trial runs", lambda: trial_children(tracker, parent))
    with (tune_dir / tune_files.TRIALS_CSV).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        upload_trial(tracker, tune_dir, parent, row, known or {}, metric)
    params = {"study": str(summary.get("study")), "metric": metric,
              "direction": str(summary.get("direction")), "seed": text(summary.get("seed"))}
    attempt(tracker, "params", lambda: log_params(tracker, parent, params))
    tags = {TAG + "kind": "tune", TAG + "storage": redact(str(summary.get("storage"))),
            TAG + "best_trial": str(summary.get("best_trial")),
            TAG + "run_dir": str(tune_dir.resolve()),
            NOTE: str(summary.get("selection", "")),
            **{f"best.{k}": text(v) for k, v in (summary.get("best_params") or {}).items()}}
    attempt(tracker, "tags", lambda: log_tags(tracker, parent, tags))
    finished = sum(int(v) for v in (summary.get("counts") or {}).values())
    best = {k: {finished: float(v)} for k, v in (summary.get("test") or {}).items()
            if isinstance(v, int | float)}
    if isinstance(summary.get("best_value"), int | float):
        best[f"best_{metric}"] = {finished: float(summary["best_value"])}
    attempt(tracker, "best run's test metrics", lambda: log_metrics(tracker, parent, best))
    upload_files(tracker, parent, tune_dir, [
        tune_files.TRIALS_CSV, tune_files.SUMMARY, tune_files.BEST_YAML,
        tune_files.HISTORY_PNG, tune_files.IMPORTANCE_PNG])
    best_dir = tune_dir / tune_files.BEST_DIR
    if best_dir.is_dir():
        upload_files(tracker, parent, best_dir, run_files(best_dir),
                     artifact_path=tune_files.BEST_DIR)
    attempt(tracker, "run status", lambda: tracker.client.set_terminated(parent, "FINISHED"))
    return parent

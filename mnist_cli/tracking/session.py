"""What the API's train/compare/tune/log do with `mlflow=`: connect before any training
(exit 2 if the server does not answer), log while or after running, and end with a warning
naming what did not reach the server (the command itself still succeeds: the run directory
is complete, and `mnist-cli log` finishes the upload)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnist_cli.display import Display
from mnist_cli.errors import RunFailed, UsageError
from mnist_cli.redact import HIDDEN as MASK
from mnist_cli.redact import redact, server_of
from mnist_cli.runs import rundir
from mnist_cli.tracking.client import (
    DEFAULT_EXPERIMENT,
    FROM_ENV,
    Tracker,
    connect,
    resolve_uri,
)


class TrackingWarning(UserWarning):
    """Something a run did could not be logged to MLflow (the run itself is complete)."""


def open_tracker(flag: str | None, experiment: str | None,
                 configured: Any = None) -> Tracker | None:
    """The Tracker for `--mlflow`/`mlflow.uri` (None: no tracking), checked reachable."""
    uri = resolve_uri(flag, getattr(configured, "uri", None))
    if uri is None:
        if experiment is not None:
            raise UsageError("--mlflow-experiment needs a tracking server: pass --mlflow URI "
                             "too (or set mlflow.uri in the config)")
        return None
    if MASK in uri:
        raise UsageError(f"mlflow.uri {uri}: its credentials were masked when the run was "
                         "saved; pass --mlflow URI again (or --mlflow env, or "
                         "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD)")
    name = experiment or getattr(configured, "experiment", None) or DEFAULT_EXPERIMENT
    return connect(uri, name)


def record_choice(cfg: Any, flag: str | None, experiment: str | None) -> None:
    """Put the flags into the config a new run saves (credentials masked), so config.yaml
    says where the run was tracked and `--resume` tracks it to the same place."""
    if flag is not None:
        cfg.mlflow.uri = flag if flag == FROM_ENV else redact(flag)
    if experiment is not None:
        cfg.mlflow.experiment = experiment


def run_link(tracker: Tracker, run_id: str) -> str:
    """Where the run is in the UI (an http(s) server), else its id."""
    if tracker.shown.startswith(("http://", "https://")):
        base = server_of(tracker.shown).rstrip("/")
        return f"{base}/#/experiments/{tracker.experiment_id}/runs/{run_id}"
    return f"run {run_id} on {tracker.shown}"


def report(tracker: Tracker, ui: Display, run_dir: Path, run_id: str | None) -> None:
    """A line saying where the run is, or a warning naming what was not logged."""
    if not tracker.problems and run_id is not None:
        ui.notify(f"logged to MLflow: {run_link(tracker, run_id)}")
        return
    message = (f"MLflow ({tracker.shown}): not logged: {'; '.join(tracker.problems)}. "
               f"{run_dir} is complete; finish the upload with: mnist-cli log {run_dir} "
               "--mlflow URI")
    if ui.quiet:
        warnings.warn(message, TrackingWarning, stacklevel=3)
    else:
        from rich.markup import escape

        ui.notify(f"[yellow]warning:[/] {escape(message)}")


def log_directory(tracker: Tracker, run_dir: Path) -> tuple[str, str | None]:
    """Upload a finished run, compare or tune directory: (its kind, the run id)."""
    from mnist_cli.tracking.nested import upload_comparison, upload_study
    from mnist_cli.tracking.upload import upload_run
    from mnist_cli.tuning.outputs import SUMMARY

    run_dir = Path(run_dir)
    if (run_dir / rundir.COMPARISON["json"]).is_file():
        return "compare", upload_comparison(tracker, run_dir)
    if (run_dir / SUMMARY).is_file():
        return "tune", upload_study(tracker, run_dir)
    if (run_dir / rundir.METRICS).is_file():
        return "run", upload_run(tracker, run_dir)
    raise UsageError(f"{run_dir}: not a finished run, compare or tune directory (no "
                     f"{rundir.METRICS}, {rundir.COMPARISON['json']} or {SUMMARY}); pass the "
                     "directory a command wrote")


@dataclass
class LogResult:
    """What `log` uploaded: the directory's kind (run, compare, tune), the MLflow run id
    (the parent's for compare and tune) and where to see it."""

    kind: str
    run_id: str
    link: str


def saved_choice(run_dir: Path) -> Any:
    """The `mlflow` section of a run directory's config.yaml (None if it has none)."""
    from types import SimpleNamespace

    from mnist_cli.tracking.upload import read_config

    section = read_config(run_dir).get("mlflow")
    return SimpleNamespace(**section) if isinstance(section, dict) else None


def log_command(run_dir: Path, flag: str | None, experiment: str | None,
                ui: Display) -> LogResult:
    """`mnist-cli log`: connect (exit 2 if unreachable), upload, and fail (exit 1) naming
    what did not reach the server."""
    if not Path(run_dir).is_dir():
        raise UsageError(f"{run_dir}: no such directory; pass a run, compare or tune "
                         "directory")
    tracker = open_tracker(flag, experiment, saved_choice(run_dir))
    if tracker is None:
        raise UsageError("log: pass --mlflow URI (or --mlflow env for MLFLOW_TRACKING_URI)")
    kind, run_id = log_directory(tracker, run_dir)
    if tracker.problems or run_id is None:
        raise RunFailed(f"MLflow ({tracker.shown}): not logged: "
                        f"{'; '.join(tracker.problems)}; run the same command again once "
                        "the server answers (nothing logged twice)")
    ui.notify(f"logged {kind} {run_dir} to MLflow: {run_link(tracker, run_id)}")
    return LogResult(kind, run_id, run_link(tracker, run_id))

"""`train --mlflow`: the MLflow run is created (or, resuming, reopened) as training begins,
gets its params then and one point per metric per epoch (step = epoch, 1-based like
history.csv) as each epoch ends, so the UI's charts grow while the run trains. A failure
here never reaches the training loop: it is noted, later epochs skip the server once it is
unreachable, and the end-of-run upload (`upload.upload_run`) sends whatever is missing."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

from mnist_cli.display import Display
from mnist_cli.redact import redacted
from mnist_cli.runs import rundir
from mnist_cli.tracking.client import Tracker
from mnist_cli.tracking.params import flatten
from mnist_cli.tracking.record import record_run, recorded_run
from mnist_cli.tracking.upload import EPOCH_METRICS, attempt, log_params, read_config


class TrainTracking:
    """One `train --mlflow`: the per-epoch callback rides on the display; `finish` uploads
    the directory whatever the run's outcome."""

    def __init__(self, tracker: Tracker, run_dir: Path) -> None:
        self.tracker, self.run_dir = tracker, Path(run_dir)
        self.run_id: str | None = None

    def begin(self) -> None:
        """Create the run (or reopen the one mlflow.json names: a resume), record it beside
        config.yaml (written by now) and log the params. A multi-worker non-chief, which
        keeps no run directory, logs nothing."""
        from mlflow.entities import RunStatus

        if not (self.run_dir / rundir.CONFIG).is_file():
            return
        client, self.run_id = self.tracker.client, recorded_run(self.run_dir, self.tracker.uri)
        if self.run_id is not None:
            attempt(self.tracker, "the run's RUNNING status", lambda: client.update_run(
                self.run_id, status=RunStatus.to_string(RunStatus.RUNNING)))
        else:
            self.run_id = attempt(self.tracker, "the run", lambda: client.create_run(
                self.tracker.experiment_id, run_name=self.run_dir.name).info.run_id)
        if self.run_id is None:
            return
        try:
            record_run(self.run_dir, self.tracker.uri, self.tracker.experiment_id, self.run_id)
        except OSError as exc:
            self.tracker.problems.append(f"{rundir.MLFLOW} ({exc})")
        params = flatten(redacted(read_config(self.run_dir)))
        attempt(self.tracker, "params", lambda: log_params(self.tracker, self.run_id, params))

    def log_epoch(self, epoch: int, logs: dict[str, Any] | None) -> None:
        from mlflow.entities import Metric

        if self.run_id is None:
            return
        now = int(time.time() * 1000)
        points = [Metric(k, float(v), now, epoch) for k, v in (logs or {}).items()
                  if k in EPOCH_METRICS]
        if points:
            attempt(self.tracker, f"epoch {epoch} metrics",
                    lambda: self.tracker.client.log_batch(self.run_id, metrics=points))

    def display(self, ui: Display) -> Display:
        """`ui` with the logging callback added (the caller's display is not changed)."""
        tracked = copy.copy(ui)
        tracked.hooks = [*ui.hooks, epoch_callback(self)]
        return tracked

    def finish(self, ui: Display) -> None:
        """Upload the directory and report; never raises. Nothing when training never
        began (a bad input: its error is the news)."""
        from mnist_cli.tracking.session import report
        from mnist_cli.tracking.upload import upload_run

        if self.run_id is None and not (self.run_dir / rundir.METRICS).is_file():
            return
        self.tracker.problems.clear()
        self.tracker.down = False  # try again: the server may be back
        run_id = upload_run(self.tracker, self.run_dir, run_id=self.run_id)
        report(self.tracker, ui, self.run_dir, run_id)


def epoch_callback(tracking: TrainTracking) -> Any:
    """A Keras callback with epoch hooks only (the fused engine keeps its speed)."""
    from mnist_cli.backend import import_keras

    class MlflowEpochs(import_keras().callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            tracking.begin()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            tracking.log_epoch(epoch + 1, logs)

    return MlflowEpochs()

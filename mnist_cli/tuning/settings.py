"""What a tuning session is asked to do (`TuneSettings`) and what it gives back
(`TrialRecord` per finished trial, `TuneResult` at the end). No Optuna or TensorFlow here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnist_cli.config import Overrides
from mnist_cli.errors import UsageError

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "none")
METRICS = {"val_accuracy": "maximize", "val_loss": "minimize"}
DEFAULT_TRIALS = 20
DEFAULT_HEARTBEAT_S = 10


@dataclass
class TuneSettings:
    """A tuning session, as the flags give it. `overrides` are the fixed config flags (data,
    epochs, --set, ...) every trial starts from; the space's values come on top."""

    config: Any = None
    space: str | Path | dict[str, Any] | None = None
    trials: int = DEFAULT_TRIALS
    timeout: float | None = None
    storage: str | None = None
    study: str | None = None
    workers: int = 1
    sampler: str = "tpe"
    pruner: str = "median"
    metric: str = "val_accuracy"
    seed: int | None = None
    overrides: Overrides = field(default_factory=Overrides)
    run_dir: Path | None = None
    plots: bool = True
    command: list[str] = field(default_factory=list)
    heartbeat: int = DEFAULT_HEARTBEAT_S
    """Seconds between a running trial's heartbeats; 3 missed ones make it stale (FAIL)."""

    def check(self) -> None:
        """Bad counts and choice values are usage errors (exit 2) before anything runs."""
        for flag, value, choices in (("--sampler", self.sampler, SAMPLERS),
                                     ("--pruner", self.pruner, PRUNERS),
                                     ("--metric", self.metric, tuple(METRICS))):
            if value not in choices:
                raise UsageError(f"{flag} {value!r} is not one of {', '.join(choices)}")
        if self.trials < 1:
            raise UsageError(f"--trials must be >= 1, got {self.trials}")
        if self.workers < 1:
            raise UsageError(f"--workers must be >= 1, got {self.workers}")
        if self.heartbeat < 1:
            raise UsageError(f"--heartbeat must be >= 1 second, got {self.heartbeat}")
        if self.timeout is not None and not self.timeout > 0:
            raise UsageError(f"--timeout must be > 0 seconds, got {self.timeout}")
        if self.seed is not None and self.seed < 0:
            raise UsageError(f"--seed must be >= 0, got {self.seed}")

    @property
    def direction(self) -> str:
        return METRICS[self.metric]


@dataclass
class TrialRecord:
    """One finished trial, as the progress line shows it."""

    number: int
    state: str
    value: float | None
    params: dict[str, Any]
    seconds: float
    epochs_run: int | None
    reason: str | None = None
    worker: int = 0
    stale: bool = False
    """A trial of a process that died, failed here for want of heartbeats (recovered)."""


class TrialLog:
    """One progress line per finished trial, with the best value so far (this session's
    and earlier sessions' trials are not mixed: only the trials it has seen)."""

    def __init__(self, metric: str) -> None:
        self.metric, self.best, self.best_number = metric, None, None
        self.maximize = METRICS.get(metric, "maximize") == "maximize"

    def line(self, rec: TrialRecord) -> str:
        if rec.state == "complete" and rec.value is not None and (
                self.best is None or (rec.value > self.best if self.maximize
                                      else rec.value < self.best)):
            self.best, self.best_number = rec.value, rec.number
        what = {"complete": f"{self.metric} {rec.value:.4f}" if rec.value is not None else "",
                "pruned": f"pruned after epoch {rec.epochs_run}",
                "fail": f"failed: {rec.reason or 'no reason recorded'}"}.get(rec.state, rec.state)
        best = (f"  (best {self.best:.4f}, trial {self.best_number})"
                if self.best is not None else "")
        values = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in rec.params.items())
        return f"trial {rec.number:>3}  {what}{best}  {rec.seconds:.1f} s  {values}"


@dataclass
class TuneResult:
    """A study after this session: best trial (ranked on validation data), its config
    re-trained once in `best_run_dir` and scored once on the test split (`best_metrics`),
    and every trial of the study (`trials`, a pandas DataFrame: trials.csv)."""

    study: str
    storage: str
    run_dir: Path
    metric: str
    direction: str
    best_trial: int
    best_value: float
    best_params: dict[str, Any]
    best_run_dir: Path
    best_metrics: dict[str, Any]
    trials: Any
    counts: dict[str, int]
    seconds: float
    seed: int
    notes: list[str] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    """Stale trials (their process died while RUNNING) this session marked FAIL."""
    tested_by: str = "this session"
    """Who trained and tested the best config: "this session", or "another session, on
    HOST" (its run is `best_run_dir` there), whose test is not repeated (tuning.tested)."""

    @property
    def test_accuracy(self) -> float | None:
        return self.best_metrics.get("test_accuracy")

    def __repr__(self) -> str:
        """One line, like the other results (the trials table would print whole)."""
        acc = self.test_accuracy
        tested = "untested" if acc is None else f"test_accuracy={acc:.4f}"
        return (f"TuneResult({str(self.run_dir)!r}, best_trial={self.best_trial}, "
                f"{self.metric}={self.best_value:.4f}, {tested}, trials={len(self.trials)})")

    def to_dict(self) -> dict[str, Any]:
        """tune.json and `--json`: plain JSON types, the trials as a list of rows."""
        import json

        rows = json.loads(self.trials.to_json(orient="records", date_format="iso"))
        return {
            "study": self.study, "storage": self.storage, "run_dir": str(self.run_dir),
            "metric": self.metric, "direction": self.direction,
            "selection": f"trials ranked on {self.metric} (validation data); the best "
                         "config was trained again and tested once",
            "best_trial": self.best_trial, "best_value": self.best_value,
            "best_params": self.best_params, "best_run_dir": str(self.best_run_dir),
            "tested_by": self.tested_by,
            "best_config": str(self.run_dir / "best.yaml"),
            "test": {k: v for k, v in self.best_metrics.items() if k.startswith("test_")
                     or k == "balanced_accuracy"},
            "counts": self.counts, "seconds": round(self.seconds, 2), "seed": self.seed,
            "recovered_stale_trials": self.recovered, "notes": self.notes, "trials": rows,
        }

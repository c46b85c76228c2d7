"""metrics.json: every record the tool writes carries schema_version, and runs written
before it existed (version 0: no key) still load, resume and evaluate."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

import mnist_cli.runs.rundir as rundir
from mnist_cli.errors import UsageError
from tests.helpers import TrainRun


def read(run_dir: Path) -> dict:
    return json.loads((run_dir / rundir.METRICS).read_text())


def test_every_metrics_record_has_the_schema_version(tmp_path: Path,
                                                      train_run: TrainRun) -> None:
    from mnist_cli.comparison.sub_run import mark_failed
    from mnist_cli.modeling.io import read_run_config
    from mnist_cli.training.guards import Diverged, record_failure, record_fault
    from mnist_cli.training.resume import record_interrupt

    run_dir, _ = train_run(tmp_path / "run", epochs=1)
    done = read(run_dir)
    assert next(iter(done)) == "schema_version"  # first, so a reader sees it at once
    assert done["schema_version"] == rundir.METRICS_SCHEMA_VERSION and done["status"] == \
        "completed"
    cfg = read_run_config(run_dir)
    history = {"loss": [0.5]}
    writers = {
        "failed": lambda: record_failure(run_dir, cfg, Diverged("loss", float("nan"), 1, 3),
                                         None, history, ["train"]),
        "fault": lambda: record_fault(run_dir, cfg, OSError(errno.ENOSPC, "full"), ["train"]),
        "interrupted": lambda: record_interrupt(run_dir, cfg, KeyboardInterrupt(), history,
                                                ["train"]),
        "compare": lambda: mark_failed(run_dir, done, "diverged"),
    }
    for name, write in writers.items():
        write()
        record = read(run_dir)
        assert record["schema_version"] == rundir.METRICS_SCHEMA_VERSION, name
        assert record["status"] in ("failed", "interrupted"), name


def test_old_metrics_json_still_loads_and_evaluates(tmp_path: Path, train_run: TrainRun) -> None:
    """A run written before schema_version: load_run, evaluate and --resume's check work."""
    from mnist_cli.api import evaluate, load_run
    from mnist_cli.training.resume import load_resume_config

    run_dir, _ = train_run(tmp_path / "run")
    new = read(run_dir)
    old = {k: v for k, v in new.items() if k != "schema_version"}
    (run_dir / rundir.METRICS).write_text(json.dumps(old, indent=2) + "\n")  # the old writer
    run = load_run(run_dir)
    assert run.metrics == {**old, "schema_version": 0}
    assert run.metrics["test_accuracy"] == new["test_accuracy"]
    result = evaluate(run_dir, data="digits", no_plots=True, strategy="default")
    assert result.metrics["accuracy"] > 0.5  # the old run's model, really scored
    assert (run_dir / rundir.EVALUATION).is_file()
    with pytest.raises(UsageError, match="already completed"):
        load_resume_config(run_dir)
    (run_dir / rundir.METRICS).write_text(json.dumps(
        {"status": "interrupted", "epochs_completed": 0, "epochs": 1, "seed": 0}))
    assert load_resume_config(run_dir).training.seed == 0

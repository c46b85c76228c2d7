"""No zombie trials on the default SQLite storage: `tune --workers 2` is killed with SIGKILL
(its worker processes and the parent, as when a machine dies) while both workers run a
trial; the next `tune` of the study marks those trials FAIL (their heartbeats stopped), says
how many it recovered, and leaves no trial RUNNING. The PostgreSQL case is in
tests/test_tune_postgres.py; tests/tuning.py has the killing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.tuning import kill_when_running, states, write_space, write_tiny


@pytest.mark.slow
@pytest.mark.extended
def test_killed_workers_leave_no_running_trial_once_the_study_continues(tmp_path: Path) -> None:
    config, space, run = write_tiny(tmp_path, epochs=30), write_space(tmp_path), tmp_path / "run"
    args = ["tune", "-c", str(config), "--space", str(space), "--run-dir", str(run),
            "--seed", "0", "--pruner", "none", "--no-plots", "--heartbeat", "1"]
    url = f"sqlite:///{run / 'study.db'}"
    killed = kill_when_running([*args, "--workers", "2", "--trials", "4"], url, "tune-tiny", 2)
    assert states(url, "tune-tiny") == ["RUNNING", "RUNNING"]
    res = run_cli(*args, "--trials", "1", "--epochs", "1", "--progress", "plain")
    assert res.returncode == 0, res.stderr
    assert states(url, "tune-tiny") == ["FAIL", "FAIL", "COMPLETE"]  # nothing left RUNNING
    summary = json.loads((run / "tune.json").read_text())
    assert summary["recovered_stale_trials"] == killed == [0, 1]
    text = " ".join(res.stderr.split())
    assert "recovered 2 stale trial(s) (0, 1)" in text
    assert "failed: its process ended without recording a result" in text  # progress lines
    rows = {row["number"]: row for row in summary["trials"]}
    assert rows[0]["fail_reason"].startswith("its process ended without recording a result")

"""`tune` on a real PostgreSQL server (tests/postgres.py: started here on 127.0.0.1, stopped
after the module), as on several machines: separate `tune` processes, each with its own run
directory, share one --storage URL with a password-protected role.

Checked: a machine killed (SIGKILL) mid-trial leaves no trial RUNNING once the study goes on
(heartbeats), and which session recovered it says so; the trials of two machines overlap
in time and the counts add up; the best config is tested once,
by the session that finished first with it, and a later session with the same best reuses
that test (tuning/tested.py); the password appears in no file of any run directory and in no
output; without the driver a PostgreSQL URL exits 2 naming the extra.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import cli_cmd, run_cli, slow_fixture
from tests.postgres import Server, postgres_server
from tests.tuning import kill_when_running, write_space, write_tiny

RUN_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def server() -> Any:
    with postgres_server() as running:
        yield running


def tune_args(root: Path, url: str, run: str, trials: int, *more: str) -> list[str]:
    config, space = write_tiny(root, epochs=1), write_space(root)
    return ["tune", "-c", str(config), "--space", str(space), "--storage", url, "--study",
            "shared", "--trials", str(trials), "--seed", "0", "--pruner", "none",
            "--run-dir", str(root / run), "--no-plots", "--progress", "plain",
            "--heartbeat", "1", *more]


@pytest.fixture(scope="module")
@slow_fixture
def machines(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Machine "c" dies (SIGKILL) while running a trial of the study; then two `tune`
    processes start together on it: "a" runs 2 trials, "b" 4."""
    root = tmp_path_factory.mktemp("machines")
    password = server.add_role("tuner", "optuna")
    url = server.url("tuner", password, "optuna")
    killed = kill_when_running(tune_args(root, url, "c", 3), url, "shared", 1)
    procs = {name: subprocess.Popen(cli_cmd(*tune_args(root, url, name, trials)),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name, trials in (("a", 2), ("b", 4))}
    outputs = {name: proc.communicate(timeout=RUN_TIMEOUT_S) for name, proc in procs.items()}
    return {"root": root, "url": url, "password": password, "outputs": outputs,
            "codes": {name: proc.returncode for name, proc in procs.items()}, "killed": killed}


def summary(machines: dict[str, Any], name: str) -> dict[str, Any]:
    assert machines["codes"][name] == 0, machines["outputs"][name][1].decode()
    return json.loads((machines["root"] / name / "tune.json").read_text())


@pytest.mark.slow
def test_two_machines_share_one_study_and_their_trials_overlap(machines: dict[str, Any]) -> None:
    import optuna

    a, b = summary(machines, "a"), summary(machines, "b")
    study = optuna.load_study(study_name="shared", storage=machines["url"])
    trials = study.get_trials(deepcopy=False)[1:]  # trial 0: machine c's, killed
    assert sorted(t.number for t in trials) == list(range(1, 7))  # 2 + 4, no trial lost
    assert {t.state.name for t in trials} == {"COMPLETE"}
    owners = [Path(t.user_attrs["run_dir"]).parent.parent.name for t in trials]
    assert sorted(owners) == ["a", "a", "b", "b", "b", "b"]
    rates = {t.params["training.learning_rate"] for t in trials}
    assert len(rates) == 6  # the machines sample their own values (sampler seeds differ)
    spans = {name: [(t.datetime_start, t.datetime_complete) for t, o in zip(trials, owners,
                                                                            strict=True)
                    if o == name] for name in ("a", "b")}
    assert any(s1 < e2 and s2 < e1 for s1, e1 in spans["a"] for s2, e2 in spans["b"]), spans
    assert len(b["trials"]) == 7 and b["counts"] == {"complete": 6, "fail": 1}  # b ended last
    assert a["storage"] == b["storage"] == machines["url"].replace(machines["password"], "***")


@pytest.mark.slow
def test_the_killed_machines_trial_is_recovered_once_and_none_stays_running(
        machines: dict[str, Any]) -> None:
    import optuna

    a, b = summary(machines, "a"), summary(machines, "b")
    assert machines["killed"] == [0]
    assert sorted(a["recovered_stale_trials"] + b["recovered_stale_trials"]) == [0]
    study = optuna.load_study(study_name="shared", storage=machines["url"])
    assert [t.state.name for t in study.get_trials(deepcopy=False)] == ["FAIL"] + ["COMPLETE"] * 6
    who = "a" if a["recovered_stale_trials"] else "b"
    assert b"recovered 1 stale trial(s) (0)" in b" ".join(machines["outputs"][who][1].split())


@pytest.mark.slow
def test_the_best_config_is_tested_once_by_the_first_session_with_it(
        machines: dict[str, Any]) -> None:
    """Usually a (2 trials) ends first and tests its best; b then reuses that test if its
    best is the same trial, else tests its own. Either order is checked the same way."""
    root, done = machines["root"], {name: summary(machines, name) for name in ("a", "b")}
    for name, other in (("a", "b"), ("b", "a")):
        mine, theirs = done[name], done[other]
        if mine["tested_by"] == "this session":
            assert (root / name / "best" / "model.keras").is_file()
            assert mine["best_run_dir"] == str(root / name / "best")
        else:  # its best trial had been tested by the other session: not tested again
            assert mine["tested_by"].startswith("another session, on ")
            assert mine["best_trial"] == theirs["best_trial"]
            assert theirs["tested_by"] == "this session" and mine["test"] == theirs["test"]
            assert mine["best_run_dir"] == str((root / other / "best").resolve())
            assert not (root / name / "best").exists()
    tested = list(root.rglob("best/metrics.json"))  # one test per distinct best trial
    assert len(tested) == len({done["a"]["best_trial"], done["b"]["best_trial"]})


@pytest.mark.slow
def test_the_password_is_in_no_file_and_no_output(machines: dict[str, Any]) -> None:
    secret = machines["password"].encode()
    files = [p for p in machines["root"].rglob("*") if p.is_file()]
    assert len(files) > 20  # trials' runs, best runs, trials.csv, tune.json, config.yaml
    assert [str(p) for p in files if secret in p.read_bytes()] == []
    for name, (out, err) in machines["outputs"].items():
        assert secret not in out + err, name
        assert b"tuner:***@127.0.0.1" in err, name  # the status line names the storage
    first = sorted((machines["root"] / "a" / "trials").glob("*/metrics.json"))[0]
    command = json.loads(first.read_text())["command"]
    assert any(arg.startswith("postgresql+psycopg://tuner:***@") for arg in command)


def test_a_postgres_url_without_the_driver_exits_2_naming_the_extra(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` raises ImportError
    url = "postgresql+psycopg://tuner:hunter2@127.0.0.1:9/optuna"
    res = run_cli(*tune_args(tmp_path, url, "run", 1))
    assert res.returncode == 2, res.stderr
    message = " ".join(res.stderr.split())
    assert "its database driver is not installed (psycopg)" in message
    assert "pip install 'mnist-cli[postgres]'" in message and "hunter2" not in res.stderr
    assert not (tmp_path / "run").exists()

"""MLflow tracking against a real `mlflow server` (SQLite store, local artifact root) on
127.0.0.1, started once for this module and read back through MlflowClient: a train run's
params, per-epoch metrics, tags and artifacts (the model loads and predicts like the run's);
compare's parent with 2 x R children; tune's parent with one child per trial, failed ones
included; a server killed mid-run costs the run nothing and `mnist-cli log` then completes it
without duplicates; an unreachable server or a missing client exits 2 before training; no
credential reaches a file or the server.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from mnist_cli.errors import UsageError
from tests.helpers import run_cli

pytest.importorskip("mlflow")

TINY = {
    "name": "tiny",
    "model": {"layers": [{"Flatten": {}}, {"Dense": {"units": 10}}]},
    "training": {"learning_rate": 0.01, "epochs": 3, "batch_size": 64, "tensorboard": False},
    "data": {"spec": "digits"},
}
SECRET = "s3cr3t-pw"
BOOT_SECONDS = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`mlflow server` in its own process group; `kill` is a real SIGKILL, `start` again
    reopens the same store on the same port."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.launch()
        self.wait()

    def launch(self) -> None:
        mlflow_cli = Path(sys.executable).with_name("mlflow")
        command = [str(mlflow_cli) if mlflow_cli.exists() else sys.executable, *(
            [] if mlflow_cli.exists() else ["-m", "mlflow"]), "server", "--host", "127.0.0.1",
            "--port", str(self.port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
            "--artifacts-destination", str(self.root / "artifacts")]
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        log = (self.root / "server.log").open("ab")
        self.proc = subprocess.Popen(command, stdout=log, stderr=log, env=env,
                                     start_new_session=True)

    def wait(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        tail = (self.root / "server.log").read_text(errors="replace")[-3000:]
        pytest.fail(f"mlflow server did not start in {BOOT_SECONDS} s:\n{tail}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
        self.proc = None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from mnist_cli.backend import import_keras

    srv = Server(tmp_path_factory.mktemp("mlflow-server"))
    srv.launch()
    import_keras()  # while the server boots (seconds either way)
    srv.wait()
    yield srv
    srv.kill()  # a throwaway store: no need to wait for a graceful shutdown


def client(url: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(url)


def experiment_runs(url: str, experiment: str) -> list[Any]:
    found = client(url).get_experiment_by_name(experiment)
    return [] if found is None else client(url).search_runs([found.experiment_id])


def dotted(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out.update(dotted(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def history_points(url: str, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client(url).get_metric_history(run_id, key))


def no_secret_under(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


@pytest.fixture(scope="module")
def tracked(server: Server, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, str]:
    """One train run logged live, with credentials in the tracking URI."""
    from mnist_cli.api import train

    run_dir = tmp_path_factory.mktemp("tracked") / "run"
    uri = server.url.replace("http://", f"http://alice:{SECRET}@")
    run = train(TINY, run_dir=run_dir, seed=3, mlflow=uri, mlflow_experiment="live")
    run_id = json.loads((run_dir / "mlflow.json").read_text())["runs"][0]["run_id"]
    return run_dir, run, run_id


@pytest.mark.slow
def test_a_train_run_is_logged_live_and_reads_back_like_its_directory(
        server: Server, tracked: tuple[Path, Any, str], tmp_path: Path) -> None:
    import keras
    import pandas as pd

    run_dir, run, run_id = tracked
    logged = client(server.url).get_run(run_id)
    assert logged.info.run_name == run_dir.name
    assert logged.info.status == "FINISHED"
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    expected = {k: v if isinstance(v, str) else json.dumps(v, separators=(", ", ": "))
                for k, v in dotted(config).items()}
    assert logged.data.params == expected
    assert json.loads(logged.data.params["model.layers"]) == TINY["model"]["layers"]
    history = pd.read_csv(run_dir / "history.csv", index_col="epoch")
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        points = history_points(server.url, run_id, key)
        assert [s for s, _ in points] == [1, 2, 3]  # one point per epoch
        assert [v for _, v in points] == pytest.approx(list(history[key]), rel=1e-12)
    assert logged.data.metrics["test_accuracy"] == pytest.approx(run.metrics["test_accuracy"])
    tags = logged.data.tags
    assert tags["mnist_cli.backend"] == "tensorflow" and tags["mnist_cli.seed"] == "3"
    assert tags["mnist_cli.engine"] == "fused" and tags["mnist_cli.strategy"] == "default"
    split = json.loads((run_dir / "split.json").read_text())
    assert tags["mnist_cli.split.test"] == split["fingerprints"]["test"]
    assert tags["mnist_cli.run_dir"] == str(run_dir.resolve())
    names = {a.path for a in client(server.url).list_artifacts(run_id)}
    assert {"config.yaml", "metrics.json", "history.csv", "split.json", "curves.png",
            "model.keras"} <= names
    got = Path(client(server.url).download_artifacts(run_id, "model.keras", str(tmp_path)))
    images = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(keras.models.load_model(got).predict(images, verbose=0),
                               run.model.predict(images, verbose=0), rtol=1e-6, atol=1e-7)
    # The password reached neither the run directory nor the server's records.
    no_secret_under(run_dir)
    assert "***@127.0.0.1" in config["mlflow"]["uri"]
    assert SECRET not in json.dumps([logged.data.params, logged.data.tags])
    client(server.url).download_artifacts(run_id, "", str(tmp_path / "all"))
    no_secret_under(tmp_path / "all")


@pytest.mark.slow
def test_log_twice_adds_no_run_and_no_metric_point(server: Server,
                                                    tracked: tuple[Path, Any, str]) -> None:
    run_dir, _, run_id = tracked
    before = len(experiment_runs(server.url, "live"))
    for _ in range(2):
        done = run_cli("log", str(run_dir), "--mlflow", server.url, "--mlflow-experiment",
                       "live", "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["run_id"] == run_id
    assert len(experiment_runs(server.url, "live")) == before
    assert [s for s, _ in history_points(server.url, run_id, "loss")] == [1, 2, 3]
    assert len(history_points(server.url, run_id, "test_accuracy")) == 1


@pytest.mark.slow
def test_compare_logs_a_parent_with_one_child_per_variant_and_seed(server: Server,
                                                                    tmp_path: Path) -> None:
    from mnist_cli.api import compare

    config = {**TINY, "training": {**TINY["training"], "epochs": 1}}
    result = compare(config, output=["logits", "probabilities"], repeats=2, seed=5,
                     run_dir=tmp_path / "cmp", mlflow=server.url, mlflow_experiment="cmp")
    runs = experiment_runs(server.url, "cmp")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and parents[0].info.run_name == "cmp"
    parent = parents[0]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 2 * 2
    assert {(r.data.tags["mnist_cli.variant"], r.data.tags["mnist_cli.seed"])
            for r in children} == {(v, s) for v in ("logits", "probabilities")
                                   for s in ("5", "6")}
    assert all(len(history_points(server.url, r.info.run_id, "loss")) == 1 for r in children)
    names = {a.path for a in client(server.url).list_artifacts(parent.info.run_id)}
    assert {"comparison.json", "comparison.csv", "comparison.png", "statistics.txt"} <= names
    assert result.sentences[-1] in parent.data.tags["mlflow.note.content"]
    assert parent.data.tags["mnist_cli.winner"] == result.winner
    assert run_cli("log", str(tmp_path / "cmp"), "--mlflow", server.url, "--mlflow-experiment",
                   "cmp").returncode == 0
    assert len(experiment_runs(server.url, "cmp")) == 1 + 4  # logged again: nothing added


@pytest.mark.slow
def test_tune_logs_a_parent_with_one_child_per_trial_failed_ones_too(server: Server,
                                                                      tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    from mnist_cli.api import tune

    config = {**TINY, "training": {**TINY["training"], "epochs": 1},
              "model": {"layers": [{"Flatten": {}}, {"Dense": {"units": 8, "activation": "relu"}},
                                   {"Dense": {"units": 10}}]}}  # NaN at lr 1e30 (adam)
    result = tune(config, space={"training.learning_rate": {"choice": [0.05, 1e30]}},
                  trials=2, sampler="grid", pruner="none", seed=0, run_dir=tmp_path / "tn",
                  mlflow=server.url, mlflow_experiment="tune")
    runs = experiment_runs(server.url, "tune")
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == len(result.trials) == 2
    states = {r.data.tags["mnist_cli.trial_state"]: r for r in children}
    assert set(states) == {"complete", "fail"}
    assert states["fail"].info.status == "FAILED"
    assert "diverged" in states["fail"].data.tags["mnist_cli.fail_reason"]
    assert states["complete"].info.status == "FINISHED"
    assert parent.data.metrics["test_accuracy"] == pytest.approx(
        result.best_metrics["test_accuracy"])
    names = {a.path for a in client(server.url).list_artifacts(parent.info.run_id)}
    assert {"trials.csv", "tune.json", "best.yaml", "best"} <= names
    assert run_cli("log", str(tmp_path / "tn"), "--mlflow", server.url, "--mlflow-experiment",
                   "tune").returncode == 0
    assert len(experiment_runs(server.url, "tune")) == 1 + 2  # logged again: nothing added


@pytest.mark.slow
def test_a_server_killed_mid_run_costs_nothing_and_log_completes_it(
        server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mnist_cli.api import train
    from mnist_cli.backend import import_keras
    from mnist_cli.display import Display
    from mnist_cli.tracking.session import TrackingWarning

    class KillAfterFirstEpoch(import_keras().callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if epoch == 0:
                server.kill()

    # The user's own setting wins over mnist-cli's 2 retries with backoff (~5 s here).
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    ui = Display("none", quiet=True)
    ui.hooks = [KillAfterFirstEpoch()]  # runs just before the MLflow callback
    run_dir = tmp_path / "killed"
    lost = r"not logged: .*per-epoch metrics \(epochs 1-3\)"
    with pytest.warns(TrackingWarning, match=lost) as caught:
        run = train(TINY, run_dir=run_dir, seed=4, mlflow=server.url,
                    mlflow_experiment="killed", progress=ui)
    lost_lines = [str(w.message) for w in caught if w.category is TrackingWarning]
    assert len(lost_lines) == 1 and f"mnist-cli log {run_dir}" in lost_lines[0]
    assert run.metrics["status"] == "completed" and run.metrics["epochs_run"] == 3
    assert {"model.keras", "history.csv", "metrics.json", "mlflow.json"} <= {
        p.name for p in run_dir.iterdir()}
    server.start()  # same store, same port
    run_id = json.loads((run_dir / "mlflow.json").read_text())["runs"][0]["run_id"]
    assert history_points(server.url, run_id, "loss") == []  # nothing got through
    for _ in range(2):
        assert run_cli("log", str(run_dir), "--mlflow", server.url).returncode == 0
    runs = experiment_runs(server.url, "killed")
    assert [r.info.run_id for r in runs] == [run_id]
    assert runs[0].info.status == "FINISHED"
    assert [s for s, _ in history_points(server.url, run_id, "val_loss")] == [1, 2, 3]
    assert "model.keras" in {a.path for a in client(server.url).list_artifacts(run_id)}


@pytest.mark.slow
def test_resume_continues_the_same_mlflow_run(server: Server, tmp_path: Path) -> None:
    from mnist_cli.api import train
    from mnist_cli.backend import import_keras
    from mnist_cli.display import Display
    from mnist_cli.signals import Interrupted

    class StopAfterSecondEpoch(import_keras().callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if epoch == 1:
                raise Interrupted(signal.SIGINT)

    ui = Display("none", quiet=True)
    ui.hooks = [StopAfterSecondEpoch()]
    run_dir = tmp_path / "resumed"
    with pytest.raises(Interrupted):
        train(TINY, run_dir=run_dir, seed=6, mlflow=server.url, mlflow_experiment="resume",
              progress=ui)
    (first,) = experiment_runs(server.url, "resume")
    assert first.info.status == "KILLED"
    train(resume=run_dir)  # the saved config's mlflow.uri: the same server
    (run,) = experiment_runs(server.url, "resume")
    assert run.info.run_id == first.info.run_id and run.info.status == "FINISHED"
    assert [s for s, _ in history_points(server.url, run.info.run_id, "loss")] == [1, 2, 3]


def test_an_unreachable_server_exits_2_before_training(tmp_path: Path) -> None:
    run_dir = tmp_path / "never"
    url = f"http://bob:{SECRET}@127.0.0.1:{free_port()}"
    done = run_cli("train", "-c", "mlp_relu", "--data", "digits", "--run-dir", str(run_dir),
                   "--mlflow", url)
    assert done.returncode == 2
    assert "cannot be reached" in done.stderr and SECRET not in done.stderr
    assert not run_dir.exists()
    done = run_cli("log", str(tmp_path), "--mlflow", "env", env={"MLFLOW_TRACKING_URI": ""})
    assert done.returncode == 2 and "MLFLOW_TRACKING_URI is not set" in done.stderr
    done = run_cli("train", "--run-dir", str(run_dir), "--mlflow-experiment", "x")
    assert done.returncode == 2 and "needs a tracking server" in done.stderr


def test_a_config_uri_with_a_password_is_refused() -> None:
    from mnist_cli.config import resolve_config
    from mnist_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="mlflow.uri: holds a password"):
        resolve_config({**TINY, "mlflow": {"uri": f"https://u:{SECRET}@host"}})


def test_a_missing_client_exits_2_naming_the_extra(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    from mnist_cli.api import train

    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(UsageError, match=r"pip install 'mnist-cli\[mlflow\]'"):
        train(TINY, run_dir=tmp_path / "r", mlflow="http://127.0.0.1:1")
    assert not (tmp_path / "r").exists()

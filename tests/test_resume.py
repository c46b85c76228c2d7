"""Interrupting a real `train` and resuming it gives the same result as never stopping."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from mnist_cli.config import Overrides, resolve_config
from tests.helpers import DROPOUT_LAYERS, cli_cmd, digits_yaml

EPOCHS, SEED, BATCH = 8, 7, 16
ARGS = ["--data", "digits", "--epochs", str(EPOCHS), "--seed", str(SEED),
        "--batch-size", str(BATCH)]


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run, uninterrupted (in-process: same seed, deterministic ops)."""
    from mnist_cli.training import run_training

    cfg = resolve_config(None, Overrides(data="digits", epochs=EPOCHS, seed=SEED,
                                         batch_size=BATCH))
    run = tmp_path_factory.mktemp("ref") / "run"
    run_training(cfg, run)
    return run


@pytest.fixture(scope="module")
def reference(reference_run: Path) -> dict:
    return json.loads((reference_run / "metrics.json").read_text())


def history_rows(run: Path) -> list[dict[str, float]]:
    with open(run / "history.csv", newline="") as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def interrupt_after_first_epoch(run: Path, sig: int, env: dict) -> subprocess.CompletedProcess:
    """Start `train`, wait for the end of its first epoch, then send `sig` (the backup of the
    epochs completed by then is written on the way out)."""
    proc = subprocess.Popen(cli_cmd("train", *ARGS, "--run-dir", str(run), "--quiet"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    marker = run / "backup" / "history.json"  # written at every epoch end
    deadline = time.monotonic() + 180
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# SIGINT's 130 through the CLI: tests/test_strategy.py (multi-worker); in-process SIGINT and
# kill -9 resumes: tests/test_multi_device.py
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143)])
def test_interrupt_then_resume_matches_uninterrupted(tmp_path: Path, cli_env: dict,
                                                     reference: dict, reference_run: Path,
                                                     sig: int, code: int) -> None:
    run = tmp_path / "run"
    stopped = interrupt_after_first_epoch(run, sig, cli_env)
    assert stopped.returncode == code, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert f"resume with: mnist-cli train --resume {run}" in stopped.stderr
    partial = json.loads((run / "metrics.json").read_text())
    assert partial["status"] == "interrupted"
    assert 1 <= partial["epochs_completed"] < EPOCHS
    assert (run / "backup" / "keras" / "state.npz").exists()

    resumed = subprocess.run(cli_cmd("train", "--resume", str(run), "--json"),
                             capture_output=True, text=True, env=cli_env, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    metrics = json.loads(resumed.stdout)
    assert metrics["status"] == "completed" and metrics["epochs_run"] == EPOCHS
    done = partial["epochs_completed"]
    assert metrics["resumed_from_epoch"] == done
    n_train = metrics["samples_per_second"] * metrics["train_seconds"] / (EPOCHS - done)
    # speed counts this session's epochs only (all EPOCHS would be >= 8/7 too high)
    assert n_train == pytest.approx(metrics["dataset"]["sizes"]["train"], rel=0.01)
    for key in ("test_loss", "test_accuracy", "balanced_accuracy", "final"):
        assert metrics[key] == reference[key], key
    assert len((run / "history.csv").read_text().splitlines()) == EPOCHS + 1
    assert not (run / "backup").exists()
    # full precision survives the interruption: the epochs read back from the backup and the
    # new ones equal the uninterrupted run's, float for float, and the last row is `final`
    rows = history_rows(run)
    assert rows == history_rows(reference_run)
    assert {k: v for k, v in rows[-1].items() if k != "epoch"} == metrics["final"]


@pytest.mark.parametrize("extra", [["--epochs", "3"], ["--set", "training.epochs=3"],
                                   ["--no-deterministic"], ["-c", "cnn"]])
def test_resume_refuses_config_flags(tmp_path: Path, extra: list[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("name: x\n")
    result = CliRunner().invoke(app, ["train", "--resume", str(run), *extra])
    assert result.exit_code == 2
    assert "continues with the run's saved config.yaml; drop" in result.output


def test_resume_refuses_completed_and_missing_runs(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["train", "--resume", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such run directory" in missing.output
    done = tmp_path / "done"
    done.mkdir()
    (done / "config.yaml").write_text("name: x\n")
    (done / "metrics.json").write_text('{"status": "completed"}')
    result = CliRunner().invoke(app, ["train", "--resume", str(done)])
    assert result.exit_code == 2 and "already completed" in result.output


def interrupt_at_end_of_epoch(epoch: int):
    """A callback that stops the run as a SIGINT would, once `epoch` epochs are done."""
    from mnist_cli.backend import import_keras
    from mnist_cli.signals import Interrupted

    class Stop(import_keras().callbacks.Callback):
        def on_epoch_end(self, e: int, logs: dict | None = None) -> None:
            if e + 1 == epoch:
                raise Interrupted(signal.SIGINT)

    return Stop()


@pytest.mark.slow
@pytest.mark.parametrize("xla", [False, True])
def test_resume_keeps_early_stopping_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           xla: bool) -> None:
    """Patience 2: early stopping ends the run at epoch `stop`, 2 epochs after the best one,
    whose weights it restores. A run interrupted after epoch stop - 1 must resume with its
    patience counter and best weights, on the plain graph and on XLA (a long run's engine)."""
    from mnist_cli.signals import Interrupted
    from mnist_cli.training import fused, run_training

    monkeypatch.setattr(fused, "XLA_MIN_STEPS", 0 if xla else 10**9)

    def cfg():
        return resolve_config("mlp_relu", Overrides(
            data="digits", epochs=20, seed=3, batch_size=32, learning_rate=0.05,
            sets=["training.early_stopping_patience=2"]))

    reference = run_training(cfg(), tmp_path / "ref").metrics
    stop = reference["epochs_run"]
    assert 4 <= stop < 20  # early stopping did stop it, after a best epoch >= 2
    run = tmp_path / "run"
    with pytest.raises(Interrupted):
        run_training(cfg(), run, callbacks=[interrupt_at_end_of_epoch(stop - 1)])
    assert json.loads((run / "metrics.json").read_text())["epochs_completed"] == stop - 1
    resumed = run_training(cfg(), run).metrics
    assert resumed["resumed_from_epoch"] == stop - 1
    assert resumed["engine"]["why"].startswith("XLA") == xla
    for key in ("epochs_run", "test_loss", "test_accuracy", "final"):
        assert resumed[key] == reference[key], key


DROPOUT_YAML = digits_yaml("mlp_dropout", DROPOUT_LAYERS, epochs=6)


@pytest.mark.slow
def test_resume_continues_dropout_random_state(tmp_path: Path) -> None:
    """Dropout masks come from a seed generator whose state advances every step; a resumed
    run must continue it, not draw the first epochs' masks again."""
    from mnist_cli.signals import Interrupted
    from mnist_cli.training import run_training

    path = tmp_path / "dropout.yaml"
    path.write_text(DROPOUT_YAML)
    reference = run_training(resolve_config(str(path), Overrides(seed=4)), tmp_path / "ref")
    run = tmp_path / "run"
    with pytest.raises(Interrupted):
        run_training(resolve_config(str(path), Overrides(seed=4)), run,
                     callbacks=[interrupt_at_end_of_epoch(3)])
    resumed = run_training(resolve_config(str(path), Overrides(seed=4)), run)
    for key in ("test_loss", "test_accuracy", "final"):
        assert resumed.metrics[key] == reference.metrics[key], key

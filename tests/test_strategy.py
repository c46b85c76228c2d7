"""Distribution strategies on a CPU-only machine: the CPU plays the GPUs, TPU and cluster.

Multi-device and multi-process cases run in fresh processes (logical devices and collective
ops must be configured before TensorFlow initialises), each bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from mnist_cli.errors import UsageError
from tests.helpers import ROOT, cli_cmd

SCRIPTS = Path(__file__).parent / "strategy_scripts"
TRAIN = ["train", "--data", "digits", "--epochs", "2", "--batch-size", "32", "--seed", "1",
         "--no-plots"]


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def run(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_unknown_strategy_rejected_by_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--strategy", "horovod",
                                      "--run-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "horovod" in result.output and "multi-worker" in result.output
    assert not (tmp_path / "r").exists()


def test_nccl_refused_on_cpu(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*TRAIN, "--strategy", "mirrored", "--cross-device-ops",
                                      "nccl", "--run-dir", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "nccl needs GPUs" in result.output and "hierarchical-copy" in result.output
    assert not (tmp_path / "r").exists()


def test_tpu_without_tpu_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLAB_TPU_ADDR", raising=False)
    monkeypatch.delenv("TPU_NAME", raising=False)
    runner = CliRunner()
    start = time.monotonic()
    none = runner.invoke(app, [*TRAIN, "--strategy", "tpu", "--run-dir", str(tmp_path / "a")])
    port = free_ports(1)[0]
    monkeypatch.setenv("COLAB_TPU_ADDR", f"127.0.0.1:{port}")  # as on Colab, but dead
    dead = runner.invoke(app, [*TRAIN, "--strategy", "auto", "--run-dir", str(tmp_path / "b")])
    assert time.monotonic() - start < 10
    assert none.exit_code == 2 and "no TPU configured" in none.output
    assert dead.exit_code == 2 and f"no TPU answers at grpc://127.0.0.1:{port}" in dead.output


def test_one_device_and_bad_device(tmp_path: Path) -> None:
    from mnist_cli.distribute import StrategyConfig, make_strategy

    strategy, desc = make_strategy(StrategyConfig(name="one-device", devices=["/cpu:0"]))
    assert desc.replicas == 1 and desc.devices[0].endswith("CPU:0")
    with pytest.raises(UsageError, match="not found"):
        make_strategy(StrategyConfig(name="one-device", devices=["/gpu:3"]))


@pytest.mark.slow
def test_env_json_reports_strategies() -> None:
    env = dict(os.environ, TF_CONFIG=json.dumps(
        {"cluster": {"worker": ["h:1", "h:2"]}, "task": {"type": "worker", "index": 1}}))
    result = run(cli_cmd("env", "--json"), env, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["versions"]["tensorflow"] and report["devices"]["CPU"]
    assert report["strategies"]["mirrored+nccl"]["usable"] is False
    assert report["strategies"]["multi-worker"]["usable"] is True
    assert report["tf_config"]["task"] == {"type": "worker", "index": 1}


@pytest.mark.slow
def test_missing_worker_fails_within_timeout(tmp_path: Path, cli_env: dict[str, str]) -> None:
    ports = free_ports(2)
    workers = [a for p in ports for a in ("--worker", f"127.0.0.1:{p}")]
    start = time.monotonic()
    result = run(cli_cmd(*TRAIN, "--strategy", "multi-worker", *workers, "--task-index", "0",
                         "--connect-timeout", "2", "--run-dir", str(tmp_path / "r")),
                 cli_env, timeout=60)
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"worker 1 (127.0.0.1:{ports[1]}) not reachable after 2 s" in result.stderr
    assert "--connect-timeout" in result.stderr
    assert time.monotonic() - start < 30
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_peer_that_never_joins_ends_with_exit_1(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """Something answers on the peer's port but is not a TF worker: TF's constructor would
    wait forever (holding the GIL, ignoring SIGTERM); the watchdog ends it with the error."""
    ports = free_ports(2)
    impostor = socket.socket()
    impostor.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    impostor.bind(("127.0.0.1", ports[1]))
    impostor.listen(8)
    workers = [a for p in ports for a in ("--worker", f"127.0.0.1:{p}")]
    try:
        result = run(cli_cmd(*TRAIN, "--strategy", "multi-worker", *workers, "--task-index",
                             "0", "--connect-timeout", "3", "--run-dir", str(tmp_path / "r")),
                     cli_env, timeout=90)
    finally:
        impostor.close()
    assert result.returncode == 1, result.stderr[-2000:]
    assert (f"worker 1 (127.0.0.1:{ports[1]}) answered the port probe but did not join "
            "within 3 s") in result.stderr
    assert "Traceback" not in result.stderr and "Thread 0x" not in result.stderr
    assert not (tmp_path / "r").exists()


def single_process_history(epochs: int) -> tuple[dict[str, list[float]], list[np.ndarray]]:
    """The engine in this process, no strategy, same data, seed and global batch (64)."""
    from mnist_cli.backend import import_tf
    from mnist_cli.config import Overrides, resolve_config
    from mnist_cli.data import load_dataset
    from mnist_cli.modeling.build import build_model, compile_model
    from mnist_cli.training.fused import Engine
    from mnist_cli.training.seeding import seed_everything

    cfg = resolve_config(None, Overrides(data="digits", epochs=epochs, batch_size=32, seed=1))
    data = load_dataset(cfg.data, 1)
    seed_everything(1, cfg.training.deterministic)
    model = build_model(cfg.model, data.description.image_shape, 10, cfg.name)
    compile_model(model, cfg.model, cfg.training)
    strategy = import_tf().distribute.get_strategy()
    history, _ = Engine.for_strategy(strategy, model).fit(cfg, data, model, 64, [])
    return history, model.get_weights()


MW_EPOCHS = 4


def start_workers(where: Path, env: dict[str, str], *args: str,
                  run_dirs: tuple[str, str] = ("w0", "w1")) -> list[subprocess.Popen]:
    """`train ARGS` as a two-worker cluster on localhost, worker i in `where / run_dirs[i]`
    (`--run-dir`, or the directory itself when ARGS resume)."""
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for i in range(2):
        wenv = dict(env, TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": i}}))
        run_dir = str(where / run_dirs[i])
        if "--resume" in args:
            cmd = cli_cmd("train", "--resume", run_dir, *[a for a in args if a != "--resume"])
        else:
            cmd = cli_cmd(*TRAIN, "--strategy", "multi-worker", "--connect-timeout", "60",
                          "--run-dir", run_dir, *args)
        procs.append(subprocess.Popen(cmd, env=wenv, cwd=ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    return procs


def finish(procs: list[subprocess.Popen]) -> list[tuple[subprocess.Popen, str, str]]:
    try:
        outs = [p.communicate(timeout=150) for p in procs]
    finally:
        for p in procs:
            p.kill()
    return [(p, out, err) for p, (out, err) in zip(procs, outs, strict=True)]


def two_workers(tmp_path: Path, cli_env: dict[str, str], *args: str
                ) -> list[tuple[subprocess.Popen, str, str]]:
    """`train ARGS` as a two-worker cluster on localhost: (process, stdout, stderr) each."""
    return finish(start_workers(tmp_path, cli_env, *args))


@pytest.fixture(scope="module")
def reference_cluster(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """One uninterrupted two-worker run (MW_EPOCHS epochs): its directory and JSON results."""
    where = tmp_path_factory.mktemp("cluster")
    env = dict(os.environ, PYTHONUNBUFFERED="1", KERAS_HOME=str(where / "kh"))
    runs = two_workers(where, env, "--json", "--epochs", str(MW_EPOCHS))
    for p, _, err in runs:
        assert p.returncode == 0, err[-2000:]
    return where, [json.loads(out) for _, out, _ in runs]


def model_weights(path: Path) -> list[np.ndarray]:
    from mnist_cli.backend import import_keras

    return import_keras().models.load_model(path).get_weights()


@pytest.mark.slow
def test_two_workers_match_each_other_and_one_process(reference_cluster: tuple) -> None:
    """Guarantees a (identical weights on both workers), d (first epoch within 1e-5 of one
    process at the same global batch) and e (evaluate equals the recorded accuracy)."""
    where, (chief, other) = reference_cluster
    assert (where / "w0" / "metrics.json").exists()
    assert not (where / "w1").exists()  # removed once its run completed
    assert chief["strategy"]["replicas"] == 2 and chief["strategy"]["global_batch_size"] == 64
    assert chief["strategy"]["name"] == "multi-worker"  # class: CollectiveAllReduceStrategy
    assert chief["engine"]["name"] == "fused" and "over the workers" in chief["engine"]["why"]
    # Identical weights give identical test outputs, hence bit-equal test loss and history.
    for key in ("final", "test_loss", "test_accuracy"):
        assert chief[key] == other[key]
    history, weights = single_process_history(epochs=MW_EPOCHS)
    first = (where / "w0" / "history.csv").read_text().splitlines()[1].split(",")
    assert float(first[2]) == pytest.approx(history["loss"][0], abs=1e-5)
    for key, values in history.items():
        assert chief["final"][key] == pytest.approx(values[-1], abs=1e-4), key
    for a, b in zip(model_weights(where / "w0" / "model.keras"), weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)
    from mnist_cli.api import evaluate

    assert evaluate(where / "w0", no_plots=True).metrics["accuracy"] == chief["test_accuracy"]


def wait_for_backup(run: Path, procs: list[subprocess.Popen], epochs: int = 1) -> None:
    from mnist_cli.training.resume import completed_epochs

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and all(p.poll() is None for p in procs):
        try:
            if completed_epochs(run) >= epochs:
                return
        except Exception:  # noqa: BLE001 (being written: read it again)
            pass
        time.sleep(0.01)


@pytest.mark.slow
def test_sigint_on_one_worker_stops_both_and_resume_is_bit_identical(
        reference_cluster: tuple, tmp_path: Path, cli_env: dict[str, str]) -> None:
    """Guarantee b: SIGINT to worker 1 alone stops both at the same call boundary (they
    agree before each one; a worker stopping alone would leave the other waiting in an
    all-reduce), each keeps its backup, and `--resume` on each gives the uninterrupted
    run's weights and metrics, bit for bit."""
    where, (chief, _) = reference_cluster
    procs = start_workers(tmp_path, cli_env, "--epochs", str(MW_EPOCHS), "--quiet")
    wait_for_backup(tmp_path / "w0", procs)
    procs[1].send_signal(signal.SIGINT)
    stopped = finish(procs)
    for p, _, err in stopped:
        assert p.returncode == 130, err[-2000:]
        assert "Traceback" not in err
    for run in ("w0", "w1"):  # every worker kept its backup
        assert json.loads((tmp_path / run / "metrics.json").read_text())["status"] == \
            "interrupted"
    resumed = finish(start_workers(tmp_path, cli_env, "--resume", "--json"))
    for p, _, err in resumed:
        assert p.returncode == 0, err[-2000:]
    again = json.loads(resumed[0][1])
    assert 1 <= again["resumed_from_epoch"] < MW_EPOCHS
    for key in ("final", "test_loss", "test_accuracy"):
        assert again[key] == chief[key], key
    for a, b in zip(model_weights(tmp_path / "w0" / "model.keras"),
                    model_weights(where / "w0" / "model.keras"), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "w1").exists()


def freeze_at_the_same_backup(run_dirs: list[Path], procs: list[subprocess.Popen]) -> int:
    """SIGSTOP every worker once each holds a backup, at the same epoch count (they back up
    every epoch, within one epoch of each other; retried until they agree); returns it."""
    from mnist_cli.training.resume import completed_epochs

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and all(p.poll() is None for p in procs):
        for p in procs:
            p.send_signal(signal.SIGSTOP)
        try:
            done = {completed_epochs(run) for run in run_dirs}
        except Exception:  # noqa: BLE001 (a backup caught mid-write: look again)
            done = set()
        if len(done) == 1 and 1 <= min(done) < MW_EPOCHS:
            return min(done)
        for p in procs:
            p.send_signal(signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("the workers never held the same backup mid-run")


@pytest.mark.slow
@pytest.mark.extended
def test_kill_9_of_both_workers_then_resume_is_bit_identical(
        reference_cluster: tuple, tmp_path: Path, cli_env: dict[str, str]) -> None:
    """Guarantee b, hard kill: both workers SIGKILLed after a backup, then `--resume` on
    each gives the uninterrupted run's weights and metrics, bit for bit."""
    where, (chief, _) = reference_cluster
    procs = start_workers(tmp_path, cli_env, "--epochs", str(MW_EPOCHS), "--quiet")
    try:
        saved = freeze_at_the_same_backup([tmp_path / "w0", tmp_path / "w1"], procs)
    finally:
        for p in procs:
            p.kill()
            p.communicate(timeout=60)
    resumed = finish(start_workers(tmp_path, cli_env, "--resume", "--json"))
    for p, _, err in resumed:
        assert p.returncode == 0, err[-2000:]
    again = json.loads(resumed[0][1])
    assert again["resumed_from_epoch"] == saved
    for key in ("final", "test_loss", "test_accuracy"):
        assert again[key] == chief[key], key
    for a, b in zip(model_weights(tmp_path / "w0" / "model.keras"),
                    model_weights(where / "w0" / "model.keras"), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
@pytest.mark.extended
def test_a_non_finite_gradient_on_one_workers_replica_stops_both(tmp_path: Path,
                                                                 cli_env: dict[str, str]) -> None:
    """Guarantee c on one replica: an inf pixel in worker 1's rows of step 5 makes only its
    gradient non-finite; both workers stop at that step with nothing applied."""
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    env = dict(cli_env, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen(
        [sys.executable, str(SCRIPTS / "bad_replica_worker.py"), str(tmp_path), "5"],
        env=dict(env, TF_CONFIG=json.dumps({"cluster": cluster,
                                            "task": {"type": "worker", "index": i}})),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)]
    for p, _, err in finish(procs):
        assert p.returncode == 0, err[-2000:]
    for i in range(2):
        found = json.loads((tmp_path / f"worker{i}.json").read_text())
        assert "at epoch 1, step 5" in found["message"], found
        assert found["iterations"] == 4 and found["finite"]


@pytest.mark.slow
@pytest.mark.extended
def test_two_workers_stop_together_at_a_non_finite_step(tmp_path: Path,
                                                        cli_env: dict[str, str]) -> None:
    """The update is skipped on every worker or none (its all-reduce must not hang): both
    name the same step, the chief records it, and no weights are left (none completed)."""
    runs = two_workers(tmp_path, cli_env, "--optimizer", "sgd", "--learning-rate", "1e30")
    steps = []
    for p, _, err in runs:
        assert p.returncode == 1, err[-2000:]
        found = re.search(r"error: training diverged: (loss|gradients) .* at epoch 1, step "
                          r"(\d+);", err)
        assert found, err[-2000:]
        steps.append(int(found.group(2)))
    assert steps[0] == steps[1]
    failure = json.loads((tmp_path / "w0" / "metrics.json").read_text())["failure"]
    assert (failure["epoch"], failure["step"]) == (1, steps[0])


@pytest.mark.parametrize("command", ["evaluate", "compare"])
def test_unknown_strategy_on_evaluate_and_compare(command: str, tmp_path: Path) -> None:
    args = [command, str(tmp_path / "run")] if command == "evaluate" else [
        command, "--data", "digits", "--run-dir", str(tmp_path / "c")]
    result = CliRunner().invoke(app, [*args, "--strategy", "warp"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().startswith("error: --strategy 'warp'")
    assert "multi-worker" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "c").exists()


@pytest.mark.slow
def test_compare_records_strategy_in_each_variant(tmp_path: Path) -> None:
    target = tmp_path / "c"
    result = CliRunner().invoke(app, ["compare", "--data", "digits", "--epochs", "1", "--seed",
                                      "1", "--strategy", "one-device", "--device", "/cpu:0",
                                      "--run-dir", str(target), "--quiet"])
    assert result.exit_code == 0, result.output
    runs = sorted(target.glob("*/metrics.json"))
    assert len(runs) == 2  # softmax vs relu, the default variants
    for path in runs:
        recorded = json.loads(path.read_text())["strategy"]
        assert recorded["name"] == "one-device" and recorded["why"] == "chosen by --strategy"
        assert recorded["class"] == "OneDeviceStrategy" and recorded["replicas"] == 1



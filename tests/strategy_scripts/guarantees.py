"""The engine's multi-device guarantees, checked in one fresh process per path; results go to
OUT/results.json for tests/test_multi_device.py.

Usage: python tests/strategy_scripts/guarantees.py OUT BACKEND
  tensorflow: `--strategy mirrored` over 2 logical CPU devices (configured here, before
              TensorFlow initialises);
  jax:        `--strategy data-parallel` over 2 forced host devices (XLA_FLAGS from the caller).

Scenarios, each recorded under its name (an error is recorded, not raised):
  a. two runs with one seed give bit-identical weights;
  b. SIGINT mid-epoch (in this process) and kill -9 after a backup (a CLI child process), each
     followed by a resume, give the uninterrupted run's weights and metrics, bit for bit;
  c. a non-finite gradient on one replica stops every replica at that exact step with nothing
     applied;
  d. 2 replicas vs 1 device at the same global batch: first-epoch losses;
  e. `evaluate` of the run equals its recorded test accuracy (default and multi-device).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

OUT, BACKEND = Path(sys.argv[1]), sys.argv[2]
ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "backend_scripts")]

from recorder import save, scenario  # noqa: E402

from tests.helpers import (  # noqa: E402
    DROPOUT_LAYERS,
    digits_yaml,
    fit_until_divergence,
    poisoned_digits,
)

STRATEGY = "mirrored" if BACKEND == "tensorflow" else "data-parallel"
EPOCHS, SEED, BATCH = 4, 3, 16  # per replica: global batch 32
BN_MLP = ("Flatten: {}", "Dense: {units: 32, activation: relu}", "BatchNormalization: {}",
          "Dropout: {rate: 0.3}", "Dense: {units: 10}")
"""State beyond the weights on TF: BatchNorm statistics (synced over replicas), Dropout's seed."""
LAYERS = BN_MLP if BACKEND == "tensorflow" else DROPOUT_LAYERS
CONFIG = OUT / "model.yaml"
CONFIG.write_text(digits_yaml("guarantee", LAYERS, epochs=EPOCHS, backend=BACKEND))
TRAIN = ["--config", str(CONFIG), "--seed", str(SEED), "--batch-size", str(BATCH),
         "--strategy", STRATEGY, "--no-plots", "--no-tensorboard"]


def split_devices() -> None:
    if BACKEND != "tensorflow":
        return
    from mnist_cli.backend import import_tf

    tf = import_tf()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(2)])


def weights(run_dir: Path) -> list[np.ndarray]:
    from mnist_cli.backend import import_keras

    return import_keras().models.load_model(run_dir / "model.keras").get_weights()


def same(a: Path, b: Path) -> dict[str, Any]:
    """Whether two run directories hold bit-identical weights, metrics and history."""
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
    return {"weights": all(np.array_equal(x, y) for x, y in
                           zip(weights(a), weights(b), strict=True)),
            "test_loss": [ma["test_loss"], mb["test_loss"]],
            "history": (a / "history.csv").read_text() == (b / "history.csv").read_text()}


def train(run: Path) -> Any:
    from mnist_cli.api import train as api_train

    return api_train(str(CONFIG), seed=SEED, batch_size=BATCH, strategy=STRATEGY,
                     no_plots=True, no_tensorboard=True, run_dir=run)


def resume(run: Path, strategy: str = "auto") -> Any:
    """`train --resume RUN` (by default without --strategy: the run's own is used)."""
    from mnist_cli.api import train as api_train

    return api_train(resume=run, strategy=strategy, no_plots=True)


def start_killed_child(run: Path) -> subprocess.Popen:
    """A CLI child training the same run (stdin closed, its own process group)."""
    if BACKEND == "tensorflow":
        cmd = [sys.executable, str(ROOT / "tests/strategy_scripts/logical_cpus.py"), "2"]
    else:
        cmd = [sys.executable, "-m", "mnist_cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MNIST_CLI_BACKUP_INTERVAL_S": "0"}
    return subprocess.Popen([*cmd, "train", *TRAIN, "--run-dir", str(run), "--quiet"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def kill_after_backup(child: subprocess.Popen, run: Path, epochs: int = 1) -> None:
    """SIGKILL the child once its backup holds `epochs` epochs (a thread beside the
    scenarios); KILLED gets the backed-up count."""
    from mnist_cli.training.resume import completed_epochs

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and child.poll() is None:
        try:
            if completed_epochs(run) >= epochs:  # written every epoch (the child's env)
                break
        except Exception:  # noqa: BLE001 (a backup being written: read it again)
            pass
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    KILLED.append(completed_epochs(run))


def interrupt_mid_epoch(run: Path) -> int:
    """Train in this process and SIGINT it mid-way through epoch 3; returns epochs saved."""
    from mnist_cli.backend import import_keras
    from mnist_cli.config import Overrides, resolve_config
    from mnist_cli.distribute import StrategyConfig, make_strategy
    from mnist_cli.signals import Interrupted, handle_interrupts
    from mnist_cli.training import run_training
    from mnist_cli.training.resume import completed_epochs

    class Sigint(import_keras().callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if self.epoch == 2 and batch >= 5:
                os.kill(os.getpid(), signal.SIGINT)

    dist, desc = make_strategy(StrategyConfig(name=STRATEGY))
    cfg = resolve_config(str(CONFIG), Overrides(seed=SEED, batch_size=BATCH))
    with handle_interrupts(), contextlib.suppress(Interrupted):
        run_training(cfg, run, strategy=dist, strategy_desc=desc, callbacks=[Sigint()])
    return completed_epochs(run)


def a_same_seed_same_weights() -> dict[str, Any]:
    train(OUT / "ref")
    train(OUT / "again")
    strategy = json.loads((OUT / "ref" / "metrics.json").read_text())["strategy"]
    return {**same(OUT / "ref", OUT / "again"), "strategy": strategy}


def b_resume_after_sigint_and_kill() -> dict[str, Any]:
    from mnist_cli.errors import UsageError

    saved = interrupt_mid_epoch(OUT / "sigint")
    try:
        resume(OUT / "sigint", strategy="default")
        refusal = "resumed on 1 device"
    except UsageError as exc:
        refusal = str(exc)
    resume(OUT / "sigint", strategy=STRATEGY)
    KILLER.join(timeout=300)
    killed = KILLED[0]
    resume(OUT / "killed")
    return {"sigint_saved_epochs": saved, "sigint": same(OUT / "ref", OUT / "sigint"),
            "killed_saved_epochs": killed, "killed": same(OUT / "ref", OUT / "killed"),
            "one_device_refusal": refusal}


def poisoned(seed: int, step: int, replica: int) -> Any:
    """Digits whose image at row 3 of `replica`'s half of `step` (1-based, epoch 1) holds an
    inf pixel: only that replica's gradient is non-finite."""
    return poisoned_digits(seed, (step - 1) * 2 * BATCH + replica * BATCH + 3)


def c_one_bad_replica_stops_all() -> dict[str, Any]:
    from mnist_cli.config import Overrides, resolve_config
    from mnist_cli.distribute import StrategyConfig, make_strategy

    step = 9
    dist, desc = make_strategy(StrategyConfig(name=STRATEGY))
    cfg = resolve_config(str(CONFIG), Overrides(seed=SEED, batch_size=BATCH))
    model, message = fit_until_divergence(cfg, poisoned(SEED, step, replica=1), dist,
                                          2 * BATCH)
    copies = [[np.asarray(c) for c in getattr(v.value, "values", [v.value])]
              for v in model.trainable_variables] if BACKEND == "tensorflow" else []
    return {"message": message, "step": step,
            "iterations": int(np.asarray(model.optimizer.iterations)),
            "finite": all(np.isfinite(w).all() for w in model.get_weights()),
            "replica_copies_equal": all(all(np.array_equal(c[0], o) for o in c[1:])
                                        for c in copies)}


def d_two_replicas_vs_one_device() -> dict[str, Any]:
    from mnist_cli.api import train as api_train

    plain = OUT / "plain.yaml"
    plain.write_text(digits_yaml("plain", ("Flatten: {}", "Dense: {units: 32, activation: relu}",
                                           "Dense: {units: 10}"), epochs=1, backend=BACKEND))
    runs = {}
    for name, strategy, batch in (("two", STRATEGY, BATCH), ("one", "default", 2 * BATCH)):
        run = api_train(str(plain), seed=SEED, batch_size=batch, strategy=strategy,
                        no_plots=True, no_tensorboard=True, run_dir=OUT / f"d-{name}")
        runs[name] = run.metrics
    return {"loss": [runs["two"]["final"]["loss"], runs["one"]["final"]["loss"]],
            "val_loss": [runs["two"]["final"]["val_loss"], runs["one"]["final"]["val_loss"]],
            "replicas": [runs["two"]["strategy"]["replicas"], runs["one"]["strategy"]["replicas"]]}


def e_evaluate_equals_recorded() -> dict[str, Any]:
    from mnist_cli.api import evaluate

    recorded = json.loads((OUT / "ref" / "metrics.json").read_text())
    return {"recorded": [recorded["test_accuracy"], recorded["test_loss"]],
            "default": [evaluate(OUT / "ref", no_plots=True).metrics[k]
                        for k in ("accuracy", "loss")],
            "multi": [evaluate(OUT / "ref", no_plots=True, strategy=STRATEGY).metrics[k]
                      for k in ("accuracy", "loss")]}


if __name__ == "__main__":
    split_devices()
    CHILD = start_killed_child(OUT / "killed")  # runs beside scenario a
    KILLED: list[int] = []
    KILLER = threading.Thread(target=kill_after_backup, args=(CHILD, OUT / "killed"))
    KILLER.start()
    for run in (a_same_seed_same_weights, b_resume_after_sigint_and_kill,
                c_one_bad_replica_stops_all, d_two_replicas_vs_one_device,
                e_evaluate_equals_recorded):
        scenario(run)
    if CHILD.poll() is None:
        CHILD.kill()
    save(OUT)

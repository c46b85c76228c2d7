"""What the tune tests share: a tiny model on the bundled digits (Dense 8, about a second a
trial) and its space, and killing a real `tune` mid-trial with SIGKILL for the zombie-trial
tests (tests/test_tune_stale.py on SQLite, tests/test_tune_postgres.py on PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from tests.helpers import cli_cmd

KILL_WITHIN_S = 240
TINY = {
    "name": "tiny",
    "model": {"layers": [{"Flatten": {}}, {"Dense": {"units": 8, "activation": "relu"}},
                         {"Dense": {"units": 10}}]},
    "training": {"optimizer": "adam", "learning_rate": 0.05, "epochs": 2, "batch_size": 64,
                 "tensorboard": False},
    "data": {"spec": "digits", "validation_split": 0.2},
}
SPACE = {"training.learning_rate": {"float": [0.01, 0.1], "log": True},
         "model.layers.1.Dense.units": {"int": [4, 12]}}


def write_tiny(folder: Path, epochs: int = 2) -> Path:
    """tiny.yaml (TINY with `epochs`) in `folder`."""
    path = folder / "tiny.yaml"
    config = {**TINY, "training": {**TINY["training"], "epochs": epochs}}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def write_space(folder: Path) -> Path:
    path = folder / "space.yaml"
    path.write_text(yaml.safe_dump(SPACE))
    return path


class RunningTrials:
    """{trial number: pid} of a study's RUNNING trials that recorded their process, read
    through one storage (one connection pool), opened once the study exists."""

    def __init__(self, url: str, study: str) -> None:
        self.url, self.study, self.storage = url, study, None

    def __call__(self) -> dict[int, int]:
        import optuna
        import sqlalchemy.exc
        from optuna.trial import TrialState

        path = self.url.removeprefix("sqlite:///")
        if self.url.startswith("sqlite:///") and not Path(path).is_file():
            return {}  # opening it would create it
        try:
            self.storage = self.storage or optuna.storages.RDBStorage(self.url)
            trials = optuna.load_study(study_name=self.study, storage=self.storage).get_trials(
                deepcopy=False, states=(TrialState.RUNNING,))
        except (KeyError, sqlalchemy.exc.SQLAlchemyError):  # no study yet, or tables being made
            return {}
        return {t.number: t.user_attrs["pid"] for t in trials if "pid" in t.user_attrs}


def kill_when_running(args: list[str], url: str, study: str, trials: int) -> list[int]:
    """Start `mnist-cli ARGS`, wait until `trials` of its trials run, SIGKILL every process
    running one and the `tune` process itself (a dead machine); the killed trials' numbers."""
    running = RunningTrials(url, study)
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cli_cmd(*args), stdout=log, stderr=log,
                                start_new_session=True)
        deadline = time.monotonic() + KILL_WITHIN_S
        try:
            while len(pids := running()) < trials:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise AssertionError(f"no {trials} running trials: {log.read().decode()}")
                time.sleep(0.2)
            for pid in set(pids.values()):
                os.kill(pid, signal.SIGKILL)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return sorted(pids)


def states(url: str, study: str) -> list[str]:
    import optuna

    return [t.state.name for t in optuna.load_study(study_name=study, storage=url)
            .get_trials(deepcopy=False)]

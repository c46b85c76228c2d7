"""Resuming an interrupted run from its last completed epoch, bit-for-bit where possible.

The epoch backup (`mnist_cli.training.backup`) restores weights, optimizer, early-stopping and
seed-generator state and the epoch number; this module adds the rest: the history of the
epochs already run and the run's saved config. The example order needs nothing: it is a
function of (seed, epoch) alone (`epochs.epoch_order`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import mnist_cli.runs.rundir as rundir
from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import UsageError
from mnist_cli.runs.artifacts import write_json, write_text
from mnist_cli.runs.rundir import BACKUP_DIR, keras_backup_dir
from mnist_cli.signals import Interrupted

HISTORY = "history.json"
STRATEGY = "strategy.json"


def completed_epochs(run_dir: Path) -> int:
    """Epochs finished and backed up in `run_dir` (0 for a fresh run)."""
    from mnist_cli.training.backup import saved_epochs

    return saved_epochs(keras_backup_dir(run_dir))


def backup_json(run_dir: Path, name: str) -> Any:
    """A JSON file kept beside the backup; None when it is missing or unreadable."""
    try:
        return json.loads((Path(run_dir) / BACKUP_DIR / name).read_text())
    except (OSError, ValueError):
        return None


def saved_history(run_dir: Path) -> dict[str, list[float]]:
    """Per-epoch metrics of the completed epochs, trimmed to the backed-up epoch count."""
    done = completed_epochs(run_dir)
    hist = backup_json(run_dir, HISTORY)
    return {} if hist is None else {k: [float(x) for x in v[:done]] for k, v in hist.items()}


def history_callback(run_dir: Path) -> Any:
    """A keras Callback holding the whole run's history (earlier sessions included); read
    `.history` after fit. It must come before the epoch backup: the backup calls `flush`
    just before it writes the state, so the file always covers at least the backed-up
    epochs, even when a kill -9 lands between the two writes (readers trim it to them). It
    also saves at the session's first epoch. Not writing every epoch spares a short epoch
    (~20 ms on JAX) a ~3 ms file write."""
    from mnist_cli.backend import import_keras

    keras = import_keras()
    path = Path(run_dir) / BACKUP_DIR / HISTORY

    class Recorder(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.history = saved_history(run_dir)
            self.saved = False

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            for key, value in (logs or {}).items():
                self.history.setdefault(key, []).append(float(value))
            if not self.saved:
                self.flush()

        def flush(self) -> None:
            write_json(path, self.history)
            self.saved = True

    return Recorder()


def record_strategy(run_dir: Path, record: dict[str, Any]) -> None:
    """Keep the strategy's name and replica count beside the backup: a resume must continue
    the same computation (another replica count cuts each batch differently)."""
    write_json(Path(run_dir) / BACKUP_DIR / STRATEGY,
               {k: record[k] for k in ("name", "replicas")})


def resume_strategy(run_dir: Path, name: str) -> str:
    """The strategy a resume runs: the run's own for `auto` (the default), else `name`."""
    recorded = backup_json(run_dir, STRATEGY)
    return recorded["name"] if recorded and name == "auto" else name


def check_same_replicas(run_dir: Path, name: str, replicas: int) -> None:
    """Refuse to resume on another replica count than the run trained on (exit 2)."""
    recorded = backup_json(run_dir, STRATEGY)
    if recorded and int(recorded["replicas"]) != replicas:
        raise UsageError(
            f"--resume {run_dir}: the run trained with strategy {recorded['name']} over "
            f"{recorded['replicas']} replica(s), but strategy {name} has {replicas} here; "
            f"resume with --strategy {recorded['name']} on the same devices (another replica "
            "count would continue a different computation), or start a new run")


def cleanup(run_dir: Path) -> None:
    """Remove the backup once the run has its final artifacts."""
    shutil.rmtree(Path(run_dir) / BACKUP_DIR, ignore_errors=True)


def resume_hint(run_dir: Path) -> str:
    return f"mnist-cli train --resume {run_dir}"


def record_interrupt(run_dir: Path, cfg: RunConfig, exc: BaseException,
                     history: dict[str, list[float]], command: list[str] | None) -> Interrupted:
    """Mark the run interrupted in metrics.json; returns the exception to raise, whose
    message says how far it got and how to resume."""
    from mnist_cli.runs.outputs import history_csv

    signum = getattr(exc, "signum", 2)
    done = completed_epochs(run_dir)
    write_text(Path(run_dir) / rundir.HISTORY, history_csv(history))
    rundir.write_metrics(run_dir, {
        "status": "interrupted", "epochs_completed": done, "epochs": cfg.training.epochs,
        "resume": resume_hint(run_dir), "seed": cfg.training.seed,
        "command": command or [], "run_dir": str(run_dir),
    })
    name = Interrupted(signum).message
    return Interrupted(signum, f"{name} after {done} of {cfg.training.epochs} epoch(s); "
                               f"state saved in {run_dir}; resume with: {resume_hint(run_dir)}")


def load_resume_config(run_dir: Path) -> RunConfig:
    """The saved config of an unfinished run, or a UsageError saying why it cannot resume."""
    from mnist_cli.config.load import read_yaml
    from mnist_cli.config.resolve import config_from_dict

    run_dir = Path(run_dir)
    cfg_path = run_dir / rundir.CONFIG
    if not run_dir.is_dir():
        raise UsageError(f"--resume {run_dir}: no such run directory; give the directory "
                         "printed when the run was interrupted")
    if not cfg_path.is_file():
        raise UsageError(f"--resume {run_dir}: no config.yaml, so this is not a run "
                         "directory; give the directory printed when the run was interrupted")
    try:
        status = rundir.read_metrics(run_dir).get("status")
    except (OSError, ValueError, AttributeError):
        status = None
    if status == "completed":
        raise UsageError(f"--resume {run_dir}: this run already completed; nothing to resume "
                         "(start a new run without --resume)")
    cfg = config_from_dict(read_yaml(cfg_path), source=str(cfg_path))
    if cfg.training.seed is None:
        raise UsageError(f"--resume {run_dir}: config.yaml has no training.seed, so the run "
                         "cannot be continued identically; start a new run")
    from mnist_cli.backend import select_backend

    select_backend(cfg.training.backend)  # a resumed run continues on its own backend
    return cfg


def refuse_conflicts(run_dir: Path, given: dict[str, Any]) -> None:
    """--resume takes the run's own config: any config-changing flag is a conflict."""
    flags = [flag for flag, value in given.items() if value not in (None, [], (), False)]
    if flags:
        raise UsageError(
            f"--resume {run_dir} continues with the run's saved config.yaml; drop "
            f"{', '.join(flags)} (or start a new run to change settings)")

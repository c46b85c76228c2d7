"""Hyperparameter search on Optuna (`mnist-cli tune`, `mnist_cli.tune`).

Trials are ranked on validation data only; the best config is trained again and tested
once. Studies live in a database (SQLite in the run directory by default, or any SQLAlchemy
URL), so a study can be continued and shared by worker processes or machines. Optuna is an
optional extra (`pip install 'mnist-cli[tune]'`); nothing here imports it (or TensorFlow)
until a session starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mnist_cli.tuning.settings import TuneResult


def tune(config: Any = None, *, space: str | Path | dict[str, Any] | None = None,
         trials: int = 20, timeout: float | None = None, storage: str | None = None,
         study: str | None = None, workers: int = 1, sampler: str = "tpe",
         pruner: str = "median", metric: str = "val_accuracy", seed: int | None = None,
         data: str | None = None, test_data: str | None = None,
         validation_split: float | None = None, data_dir: str | None = None,
         epochs: int | None = None, batch_size: int | None = None,
         sets: list[str] | dict[str, Any] | None = None, run_dir: str | Path | None = None,
         no_plots: bool = False, progress: bool = False) -> TuneResult:
    """Search hyperparameters like `mnist-cli tune` and return a `TuneResult` (best params
    and value, the trials DataFrame, the best config's tested run).

    `config`: a shipped name, a YAML path, a RunConfig or a mapping; `space`: a YAML path, a
    shipped space's name or a mapping (default: the shipped config's own space); `sets`:
    fixed overrides for every trial, ["training.epochs=3"] or {"training.epochs": 3}.
    `progress=True` prints status lines and one line per finished trial on stderr.
    """
    import sys

    from mnist_cli.config import Overrides
    from mnist_cli.tuning.session import run_tune, silent
    from mnist_cli.tuning.settings import TrialLog, TuneSettings

    if isinstance(sets, dict):  # JSON is YAML: each value is read back as written
        sets = [f"{k}={json.dumps(v)}" for k, v in sets.items()]
    settings = TuneSettings(
        config=config, space=space, trials=trials, timeout=timeout, storage=storage,
        study=study, workers=workers, sampler=sampler, pruner=pruner, metric=metric,
        seed=seed, run_dir=Path(run_dir) if run_dir is not None else None,
        plots=not no_plots, command=["mnist_cli.tune"],
        overrides=Overrides(data=data, test_data=test_data, validation_split=validation_split,
                            data_dir=data_dir, epochs=epochs, batch_size=batch_size,
                            sets=list(sets or [])))
    if not progress:
        return run_tune(settings, on_trial=silent, notify=silent)
    log = TrialLog(metric)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    return run_tune(settings, on_trial=lambda rec: say(log.line(rec)), notify=say)


__all__ = ["tune"]

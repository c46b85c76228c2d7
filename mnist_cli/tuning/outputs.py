"""What a tuning session leaves in its run directory besides the trials' own runs:
trials.csv, best.yaml, history.png, importance.png and tune.json."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import yaml

from mnist_cli.runs.artifacts import write_text
from mnist_cli.tuning.objective import STALE_REASON

TRIALS_CSV = "trials.csv"
BEST_YAML = "best.yaml"
BEST_DIR = "best"
HISTORY_PNG = "history.png"
IMPORTANCE_PNG = "importance.png"
SUMMARY = "tune.json"
FIXED_COLUMNS = ("number", "state", "value", "duration_s", "epochs_run")


def trials_frame(study: Any, keys: list[str]) -> Any:
    """Every trial of the study, one row each: number, state, value, duration, epochs run,
    one column per searched key, the failure reason, start/end times, the machine and
    worker process, and the trial's run directory."""
    import pandas as pd

    rows = []
    for t in study.get_trials(deepcopy=False):
        start, end = t.datetime_start, t.datetime_complete
        row: dict[str, Any] = {
            "number": t.number, "state": t.state.name.lower(), "value": t.value,
            "duration_s": round((end - start).total_seconds(), 3) if start and end else None,
            "epochs_run": t.user_attrs.get("epochs_run"),
        }
        row.update({k: t.params.get(k) for k in [*keys, *sorted(set(t.params) - set(keys))]})
        reason = t.user_attrs.get("fail_reason") or (STALE_REASON if t.state.name == "FAIL"
                                                     else None)
        row.update(fail_reason=reason, started=start,
                   completed=end, host=t.user_attrs.get("host"),
                   worker=t.user_attrs.get("worker"),
                   run_dir=t.user_attrs.get("run_dir"))
        rows.append(row)
    columns = list(dict.fromkeys(k for row in rows for k in row)) or list(FIXED_COLUMNS)
    return pd.DataFrame(rows, columns=columns)


def write_best_yaml(run_dir: Path, config: dict[str, Any], header: list[str]) -> Path:
    """The best trial's complete config: `mnist-cli train -c best.yaml` trains it as is."""
    text = "".join(f"# {line}\n" for line in header)
    return write_text(Path(run_dir) / BEST_YAML, text + yaml.safe_dump(config, sort_keys=False))


def save_axes(ax: Any, path: Path) -> Path:
    """Save an Optuna matplotlib plot (its Axes) atomically and close its figure."""
    import matplotlib.pyplot as plt

    from mnist_cli.plots.figure import save_png

    fig = ax.figure
    fig.set_size_inches(8, 5)
    fig.tight_layout()
    try:
        return save_png(fig, path)
    finally:
        plt.close(fig)


def write_plots(study: Any, run_dir: Path, metric: str, keys: list[str]) -> list[str]:
    """history.png (each trial's value and the best so far) and importance.png (parameter
    importances); returns notes for plots that were skipped and why."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import optuna
    from optuna.visualization import matplotlib as plots

    notes: list[str] = []
    complete = [t for t in study.get_trials(deepcopy=False)
                if t.state == optuna.trial.TrialState.COMPLETE]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        save_axes(plots.plot_optimization_history(study, target_name=metric),
                  Path(run_dir) / HISTORY_PNG)
        if len(complete) < 2 or len(keys) < 2:
            notes.append(f"{IMPORTANCE_PNG} not drawn: importances need at least 2 completed "
                         f"trials and 2 parameters ({len(complete)} and {len(keys)} here)")
            return notes
        try:
            ax = plots.plot_param_importances(study, target_name=metric)
        except (RuntimeError, ValueError, ZeroDivisionError) as exc:
            notes.append(f"{IMPORTANCE_PNG} not drawn: {exc}")
            return notes
        save_axes(ax, Path(run_dir) / IMPORTANCE_PNG)
    return notes

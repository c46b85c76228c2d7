"""`mnist-cli tune`: parse the flags, run a search session (`mnist_cli.tuning`), print."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from mnist_cli.cli import console
from mnist_cli.cli import options as opt

TUNE = "Search"
TOP = 5

SpaceOpt = Annotated[str | None, typer.Option(
    "--space", metavar="NAME|FILE", rich_help_panel=TUNE,
    help="Search space: a shipped space's name or a YAML file (default: the config's own).")]
TrialsOpt = Annotated[int, typer.Option(
    "--trials", metavar="N", rich_help_panel=TUNE, help="Trials in this session.")]
TimeoutOpt = Annotated[float | None, typer.Option(
    "--timeout", metavar="SEC", rich_help_panel=TUNE,
    help="Start no new trial after SEC seconds.")]
StorageOpt = Annotated[str | None, typer.Option(
    "--storage", metavar="URL", rich_help_panel=TUNE,
    help="Study database, a SQLAlchemy URL (default: RUN_DIR/study.db).")]
StudyOpt = Annotated[str | None, typer.Option(
    "--study", metavar="NAME", rich_help_panel=TUNE,
    help="Study name (default: tune-CONFIG); an existing one is continued.")]
WorkersOpt = Annotated[int, typer.Option(
    "--workers", metavar="N", rich_help_panel=TUNE,
    help="Processes on this machine sharing the study.")]
SamplerOpt = Annotated[str, typer.Option(
    "--sampler", metavar="NAME", rich_help_panel=TUNE,
    help="tpe, random, or grid (every parameter a choice).")]
PrunerOpt = Annotated[str, typer.Option(
    "--pruner", metavar="NAME", rich_help_panel=TUNE,
    help="median (stop trials worse than the median at an epoch) or none.")]
HeartbeatOpt = Annotated[int, typer.Option(
    "--heartbeat", metavar="SEC", rich_help_panel=TUNE,
    help="Seconds between a running trial's heartbeats; a trial whose process died is "
         "marked failed after 3 missed ones.")]
MetricOpt = Annotated[str, typer.Option(
    "--metric", metavar="NAME", rich_help_panel=TUNE,
    help="val_accuracy (maximized) or val_loss (minimized).")]


def tune(
    config: opt.ConfigOpt = None, space: SpaceOpt = None, trials: TrialsOpt = 20,
    timeout: TimeoutOpt = None, storage: StorageOpt = None, study: StudyOpt = None,
    workers: WorkersOpt = 1, sampler: SamplerOpt = "tpe", pruner: PrunerOpt = "median",
    metric: MetricOpt = "val_accuracy", heartbeat: HeartbeatOpt = 10, seed: opt.SeedOpt = None,
    epochs: opt.EpochsOpt = None,
    batch_size: opt.BatchOpt = None, sets: opt.SetOpt = None, data: opt.DataOpt = None,
    test_data: opt.TestDataOpt = None, validation_split: opt.ValSplitOpt = None,
    data_dir: opt.DataDirOpt = None, run_dir: opt.RunDirOpt = None, json_out: opt.JsonOpt = False,
    quiet: opt.QuietOpt = False, verbose: opt.VerboseOpt = False, no_plots: opt.NoPlotsOpt = False,
    progress: opt.ProgressOpt = "auto", fail_under: opt.FailUnderOpt = None,
    mlflow: opt.MlflowOpt = None, mlflow_experiment: opt.MlflowExperimentOpt = None,
) -> None:
    """Search hyperparameters with Optuna; rank trials on validation data, test the best once.

    With no flags: 20 trials of mlp_relu over its shipped space, TPE sampler, median pruner.

    Writes trials.csv, best.yaml, best/ (tested once), history.png, importance.png, tune.json.

    Run again with the same --run-dir (or --storage and --study) to continue the study.
    """
    keywords = console.api_keywords(locals())
    import sys

    from mnist_cli import api
    from mnist_cli.scoring.gates import TRAIN_METRICS, parse_gates

    ui = console.start(progress, quiet=quiet, json_out=json_out, verbose=verbose)
    gates = parse_gates(fail_under, TRAIN_METRICS)  # a bad mode or gate: exit 2 first
    result = api.tune(**keywords, progress=ui, command=list(sys.argv))
    show(result, ui, json_out, quiet)
    console.finish_gates(gates, result.best_metrics)  # on the best config's tested run


def show(result: Any, ui: Any, json_out: bool, quiet: bool) -> None:
    """`--json`: one object on stdout; else the top trials and the result (not with -q)."""
    if json_out:
        console.print_json(result.to_dict())
        return
    ui.notes(result.notes)
    if not quiet:
        console.out.print(top_table(result))
        console.out.print(result_table(result))


def short_names(keys: list[str]) -> dict[str, str]:
    """Column-friendly names: `learning_rate`, `layers.1.units` (full keys if two clash)."""
    def short(key: str) -> str:
        parts = key.split(".")
        if parts[:2] == ["model", "layers"] and len(parts) == 5:
            return f"layers.{parts[2]}.{parts[4]}"
        return parts[-1]

    names = {k: short(k) for k in keys}
    return names if len(set(names.values())) == len(names) else {k: k for k in keys}


def top_table(result: Any) -> Table:
    """The best completed trials of the study, best first."""
    frame = result.trials
    done = frame[frame["state"] == "complete"].sort_values(
        "value", ascending=result.direction == "minimize").head(TOP)
    names = short_names(list(result.best_params))
    table = Table(title=f"Top trials (ranked on {result.metric}, validation data)")
    for column in ("trial", result.metric, "epochs", "seconds"):
        table.add_column(column, justify="right")
    table.add_column("values")
    for _, row in done.iterrows():
        values = " ".join(f"{name}={row[key]:.4g}" if isinstance(row[key], float)
                          else f"{name}={row[key]}" for key, name in names.items())
        table.add_row(str(row["number"]), f"{row['value']:.4f}", str(row["epochs_run"]),
                      f"{row['duration_s']:.1f}", values)
    return table


def result_table(result: Any) -> Table:
    """Where the study stands and the best config's single test."""
    c, m = result.counts, result.best_metrics
    rows = [
        ("study", f"{result.study} ({result.storage})"),
        ("trials", f"{sum(c.values())}: {c.get('complete', 0)} complete, "
                   f"{c.get('pruned', 0)} pruned, {c.get('fail', 0)} failed"
                   + (f", {c['running']} running elsewhere" if c.get("running") else "")),
        ("best trial", str(result.best_trial)),
        (f"best {result.metric} (validation)", f"{result.best_value:.4f}"),
        ("test accuracy (best config, tested once)", f"{m['test_accuracy']:.4f}"),
        ("test loss", f"{m['test_loss']:.4f}"),
        ("best config", str(result.run_dir / "best.yaml")),
        ("best run (tested)", f"{result.best_run_dir} (tested by {result.tested_by})"),
        ("seconds", f"{result.seconds:.1f}"),
        ("run directory", str(result.run_dir)),
    ]
    table = Table(title="Result", show_header=False)
    for key, value in rows:
        table.add_row(key, value)
    return table

"""`mnist-cli train`."""

from __future__ import annotations

import sys
from typing import Any

from rich.table import Table

from mnist_cli import api
from mnist_cli.cli import console
from mnist_cli.cli import options as opt
from mnist_cli.distribute import CrossDeviceOps


def summary_table(metrics: dict[str, Any]) -> Table:
    """The result; train/val losses are those of the epoch whose weights the model kept."""
    table = Table(title="Result", show_header=False)
    final, kept = metrics.get("final", {}), metrics.get("kept_epoch", metrics["epochs_run"])
    restored = "last_epoch" in metrics
    rows = [
        ("test accuracy", f"{metrics['test_accuracy']:.4f}"),
        ("balanced accuracy", f"{metrics['balanced_accuracy']:.4f}"),
        ("test loss", f"{metrics['test_loss']:.4f}"),
        ("kept epoch", f"{kept} (best val loss: early stopping restored its weights)"
                       if restored else f"{kept} (the last)"),
        (f"train loss (epoch {kept})", f"{final.get('loss', float('nan')):.4f}"),
        (f"val loss (epoch {kept})", f"{final['val_loss']:.4f}" if "val_loss" in final else "-"),
        ("epochs run", str(metrics["epochs_run"])),
        ("train seconds", f"{metrics['train_seconds']:.2f}"),
        ("samples/s", f"{metrics['samples_per_second']:,.0f}"),
        ("run directory", metrics["run_dir"]),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


def train(
    config: opt.ConfigOpt = None,
    activation: opt.ActivationOpt = None,
    epochs: opt.EpochsOpt = None,
    batch_size: opt.BatchOpt = None,
    optimizer: opt.OptimizerOpt = None,
    learning_rate: opt.LrOpt = None,
    seed: opt.SeedOpt = None,
    sets: opt.SetOpt = None,
    data: opt.DataOpt = None,
    test_data: opt.TestDataOpt = None,
    validation_split: opt.ValSplitOpt = None,
    image_shape: opt.ImageShapeOpt = None,
    data_dir: opt.DataDirOpt = None,
    label_column: opt.LabelColumnOpt = None,
    pixel_max: opt.PixelMaxOpt = None,
    class_names: opt.ClassNamesOpt = None,
    run_dir: opt.RunDirOpt = None,
    resume: opt.ResumeOpt = None,
    deterministic: opt.DeterministicOpt = None,
    json_out: opt.JsonOpt = False,
    quiet: opt.QuietOpt = False,
    verbose: opt.VerboseOpt = False,
    no_plots: opt.NoPlotsOpt = False,
    no_tensorboard: opt.NoTensorboardOpt = False,
    progress: opt.ProgressOpt = "auto",
    fail_under: opt.FailUnderOpt = None,
    strategy: opt.StrategyOpt = "auto",
    device: opt.DeviceOpt = None,
    cross_device_ops: opt.CrossOpsOpt = CrossDeviceOps.auto,
    worker: opt.WorkerOpt = None,
    task_index: opt.TaskIndexOpt = None,
    connect_timeout: opt.ConnectTimeoutOpt = 60.0,
    tpu: opt.TpuOpt = None,
    precision: opt.PrecisionOpt = None,
    backend: opt.BackendOpt = None,
    mlflow: opt.MlflowOpt = None,
    mlflow_experiment: opt.MlflowExperimentOpt = None,
) -> None:
    """Train a model from a YAML config and write a run directory."""
    keywords = console.api_keywords(locals())
    from mnist_cli.scoring.gates import TRAIN_METRICS, parse_gates

    ui = console.start(progress, quiet=quiet, json_out=json_out, verbose=verbose)
    gates = parse_gates(fail_under, TRAIN_METRICS)  # exit 2 before anything runs
    run = api.train(**keywords, progress=ui, command=sys.argv)
    # The record as train prints it (metrics.json adds its schema_version first).
    metrics = {k: v for k, v in run.metrics.items() if k != "schema_version"}
    show_result(metrics, json_out=json_out, quiet=quiet, verbose=verbose)
    from mnist_cli.cli.ci_summary import train_markdown

    console.finish_gates(gates, metrics, (lambda results: train_markdown(metrics, results))
                         if run.chief else None)


def show_result(metrics: dict[str, Any], *, json_out: bool, quiet: bool, verbose: bool) -> None:
    """The record as JSON, or the result table; with --verbose, where the time went."""
    if json_out:
        console.print_json(metrics)
    elif not quiet:
        console.out.print(summary_table(metrics))
    if verbose and "timings" in metrics:
        from mnist_cli.display import plain
        from mnist_cli.runs.timings import timings_line

        plain(timings_line(metrics["timings"]))

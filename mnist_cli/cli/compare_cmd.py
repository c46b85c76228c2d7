"""`mnist-cli compare`: the seed's softmax-vs-ReLU experiment, generalised, with statistics."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mnist_cli import api
from mnist_cli.cli import console
from mnist_cli.cli import options as opt
from mnist_cli.display import Display
from mnist_cli.distribute import CrossDeviceOps

ConfigsOpt = Annotated[list[str] | None, typer.Option(
    "--config", "-c", metavar="NAME|FILE", rich_help_panel=opt.MODEL,
    autocompletion=opt.complete_config,
    help="A variant's config file or shipped name (repeatable).")]
ActivationsOpt = Annotated[list[str] | None, typer.Option(
    "--activation", metavar="NAME", rich_help_panel=opt.MODEL,
    help="A hidden-layer activation to compare (repeatable; default softmax vs relu).")]
OutputsOpt = Annotated[list[str] | None, typer.Option(
    "--output", metavar="FORM", rich_help_panel=opt.MODEL,
    help="logits and/or probabilities, crossed with the variants (repeatable).")]
RepeatsOpt = Annotated[int, typer.Option(
    "--repeats", min=1, metavar="N", rich_help_panel=opt.MODEL, show_default=False,
    help="Seeds per variant, the same for all (default 1): 2+ give a t-based 95% CI "
    "of the mean, 3+ a paired t-test between variants.")]
WorkersOpt = Annotated[int, typer.Option(
    "--workers", min=1, metavar="N", rich_help_panel=opt.MODEL, show_default=False,
    help="Train the variant x seed sub-runs in N processes (default 1); every sub-run is "
    "bit-identical to --workers 1's.")]
CompareDirOpt = Annotated[Path | None, typer.Option(
    "--run-dir", metavar="DIR", rich_help_panel=opt.OUTPUT,
    help="New compare directory (default: under runs/).")]


def print_table(t: Any) -> None:
    """Print to stdout; when piped, widen past 80 columns rather than truncate numbers."""
    out = console.out
    if not out.is_terminal:
        from rich.console import Console
        from rich.measure import Measurement

        need = Measurement.get(out, out.options.update_width(400), t).maximum
        out = Console(width=max(out.width, need), highlight=False)
    out.print(t)


def report(summary: dict[str, Any], ui: Display) -> None:
    """The table, which pairwise test ran and one verdict per pair on stdout; file locations
    on stderr."""
    from mnist_cli.comparison.report import sentences, table

    if ui.quiet:
        return
    print_table(table(summary))
    for line in sentences(summary):
        console.out.print(line, soft_wrap=True)
    ui.notify(f"comparison written to {summary['compare_dir']}")


def compare(
    config: ConfigsOpt = None,
    activation: ActivationsOpt = None,
    output: OutputsOpt = None,
    repeats: RepeatsOpt = 1,
    workers: WorkersOpt = 1,
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
    run_dir: CompareDirOpt = None,
    json_out: opt.JsonOpt = False,
    quiet: opt.QuietOpt = False,
    verbose: opt.VerboseOpt = False,
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
    """Train several variants on the same data and seeds, rank them, test every pair.

    Ranked on validation accuracy; each pair tested for a significant difference on test."""
    keywords = console.api_keywords(locals())
    from mnist_cli.scoring.gates import COMPARE_METRICS, parse_gates

    ui = console.start(progress, quiet=quiet, json_out=json_out, verbose=verbose)
    gates = parse_gates(fail_under, COMPARE_METRICS)  # exit 2 before anything runs
    result = api.compare(**keywords, progress=ui, command=sys.argv)
    if json_out:
        console.print_json(result.summary)
    report(result.summary, ui)
    from mnist_cli.cli.ci_summary import compare_markdown

    summary = result.summary  # gates apply to the winner (best mean over seeds)
    best = next((v for v in summary["variants"] if v["name"] == summary["winner"]), {})
    console.finish_gates(gates, best, (lambda results: compare_markdown(summary, results))
                         if result.chief else None)

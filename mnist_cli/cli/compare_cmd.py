"""`mnist-cli compare`: the seed's softmax-vs-ReLU experiment, generalised, with statistics."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mnist_cli import api
from mnist_cli.cli import console
from mnist_cli.cli.options import (
    MODEL,
    OUTPUT,
    BackendOpt,
    BatchOpt,
    ClassNamesOpt,
    ConnectTimeoutOpt,
    CrossOpsOpt,
    DataDirOpt,
    DataOpt,
    DeviceOpt,
    EpochsOpt,
    FailUnderOpt,
    ImageShapeOpt,
    JsonOpt,
    LabelColumnOpt,
    LrOpt,
    MlflowExperimentOpt,
    MlflowOpt,
    NoTensorboardOpt,
    OptimizerOpt,
    PixelMaxOpt,
    PrecisionOpt,
    ProgressOpt,
    QuietOpt,
    SeedOpt,
    SetOpt,
    StrategyOpt,
    TaskIndexOpt,
    TestDataOpt,
    TpuOpt,
    ValSplitOpt,
    VerboseOpt,
    WorkerOpt,
    complete_config,
)
from mnist_cli.display import Display
from mnist_cli.distribute import CrossDeviceOps

ConfigsOpt = Annotated[list[str] | None, typer.Option(
    "--config", "-c", metavar="NAME|FILE", rich_help_panel=MODEL,
    autocompletion=complete_config, help="A variant's config file or shipped name (repeatable).")]
ActivationsOpt = Annotated[list[str] | None, typer.Option(
    "--activation", metavar="NAME", rich_help_panel=MODEL,
    help="A hidden-layer activation to compare (repeatable; default softmax vs relu).")]
OutputsOpt = Annotated[list[str] | None, typer.Option(
    "--output", metavar="FORM", rich_help_panel=MODEL,
    help="logits and/or probabilities, crossed with the variants (repeatable).")]
RepeatsOpt = Annotated[int, typer.Option(
    "--repeats", min=1, metavar="N", rich_help_panel=MODEL, show_default=False,
    help="Seeds per variant, the same for all (default 1): 2+ give a t-based 95% CI "
    "of the mean, 3+ a paired t-test between variants.")]
WorkersOpt = Annotated[int, typer.Option(
    "--workers", min=1, metavar="N", rich_help_panel=MODEL, show_default=False,
    help="Train the variant x seed sub-runs in N processes (default 1); every sub-run is "
    "bit-identical to --workers 1's.")]
CompareDirOpt = Annotated[Path | None, typer.Option(
    "--run-dir", metavar="DIR", rich_help_panel=OUTPUT,
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
    epochs: EpochsOpt = None,
    batch_size: BatchOpt = None,
    optimizer: OptimizerOpt = None,
    learning_rate: LrOpt = None,
    seed: SeedOpt = None,
    sets: SetOpt = None,
    data: DataOpt = None,
    test_data: TestDataOpt = None,
    validation_split: ValSplitOpt = None,
    image_shape: ImageShapeOpt = None,
    data_dir: DataDirOpt = None,
    label_column: LabelColumnOpt = None,
    pixel_max: PixelMaxOpt = None,
    class_names: ClassNamesOpt = None,
    run_dir: CompareDirOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    no_tensorboard: NoTensorboardOpt = False,
    progress: ProgressOpt = "auto",
    fail_under: FailUnderOpt = None,
    strategy: StrategyOpt = "auto",
    device: DeviceOpt = None,
    cross_device_ops: CrossOpsOpt = CrossDeviceOps.auto,
    worker: WorkerOpt = None,
    task_index: TaskIndexOpt = None,
    connect_timeout: ConnectTimeoutOpt = 60.0,
    tpu: TpuOpt = None,
    precision: PrecisionOpt = None,
    backend: BackendOpt = None,
    mlflow: MlflowOpt = None,
    mlflow_experiment: MlflowExperimentOpt = None,
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
    finish_gates(gates, result.summary, result.chief)


def finish_gates(gates: list[Any], summary: dict[str, Any], chief: bool = True) -> None:
    """Gates apply to the winner (best mean over seeds); step summary first, then exit 1
    on any failed gate."""
    from mnist_cli.cli.ci_summary import compare_markdown
    from mnist_cli.scoring.gates import enforce, evaluate_gates

    best = next((v for v in summary["variants"] if v["name"] == summary["winner"]), {})
    results = evaluate_gates(gates, best)
    if chief:
        console.step_summary(compare_markdown(summary, results))
    enforce(results)

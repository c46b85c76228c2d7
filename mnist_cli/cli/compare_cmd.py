"""`mnist-cli compare`: the seed's softmax-vs-ReLU experiment, generalised, with statistics."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from mnist_cli.cli import console
from mnist_cli.cli.options import (
    BatchOpt,
    ConnectTimeoutOpt,
    CrossOpsOpt,
    DataDirOpt,
    DataOpt,
    DeviceOpt,
    EpochsOpt,
    ImageShapeOpt,
    JsonOpt,
    LrOpt,
    NoTensorboardOpt,
    OptimizerOpt,
    PrecisionOpt,
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
    ecosystem_sets,
    make_overrides,
    strategy_config,
)
from mnist_cli.rundir import check_writable, new_run_dir
from mnist_cli.strategy.config import CrossDeviceOps
from mnist_cli.tfenv import set_verbose

ConfigsOpt = Annotated[list[str] | None, typer.Option(
    "--config", "-c", help="A variant's YAML config path or shipped name (repeatable).")]
ActivationsOpt = Annotated[list[str] | None, typer.Option(
    "--activation", help="A hidden-layer activation to compare, e.g. relu (repeatable). "
    "With no --config/--activation: softmax vs relu, the seed's experiment.")]
OutputsOpt = Annotated[list[str] | None, typer.Option(
    "--output", help="logits and/or probabilities, crossed with the other variants "
    "(repeatable).")]
RepeatsOpt = Annotated[int, typer.Option(
    "--repeats", min=1, help="Seeds per variant (the same seeds for all); reports mean ± std.")]
CompareDirOpt = Annotated[Path | None, typer.Option(
    "--run-dir", help="Compare directory (default runs/compare-<UTC time>); never reused.")]


def print_table(t: Any) -> None:
    """Print to stdout; when piped, widen past 80 columns rather than truncate numbers."""
    out = console.out
    if not out.is_terminal:
        from rich.console import Console
        from rich.measure import Measurement

        need = Measurement.get(out, out.options.update_width(400), t).maximum
        out = Console(width=max(out.width, need), highlight=False)
    out.print(t)


def report(summary: dict[str, Any], quiet: bool) -> None:
    """The table and one McNemar sentence per pair on stdout; file locations on stderr."""
    from mnist_cli.compare.report import sentences, table

    if quiet:
        return
    print_table(table(summary))
    for line in sentences(summary):
        console.out.print(line, soft_wrap=True)
    console.info(f"comparison written to {summary['compare_dir']}")


def compare(
    config: ConfigsOpt = None,
    activation: ActivationsOpt = None,
    output: OutputsOpt = None,
    repeats: RepeatsOpt = 1,
    epochs: EpochsOpt = None,
    batch_size: BatchOpt = None,
    optimizer: OptimizerOpt = None,
    learning_rate: LrOpt = None,
    seed: SeedOpt = None,
    data: DataOpt = None,
    test_data: TestDataOpt = None,
    validation_split: ValSplitOpt = None,
    image_shape: ImageShapeOpt = None,
    data_dir: DataDirOpt = None,
    sets: SetOpt = None,
    run_dir: CompareDirOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    strategy: StrategyOpt = "auto",
    device: DeviceOpt = None,
    cross_device_ops: CrossOpsOpt = CrossDeviceOps.auto,
    worker: WorkerOpt = None,
    task_index: TaskIndexOpt = None,
    connect_timeout: ConnectTimeoutOpt = 60.0,
    tpu: TpuOpt = None,
    precision: PrecisionOpt = None,
    no_tensorboard: NoTensorboardOpt = False,
) -> None:
    """Train several variants on the same data and seeds, and compare them (McNemar's test)."""
    console.set_mode(quiet=quiet or json_out, json_out=json_out)
    set_verbose(verbose)
    from mnist_cli.compare import build_variants, plan_seeds

    overrides = make_overrides(
        epochs=epochs, batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate,
        seed=seed, data=data, test_data=test_data, validation_split=validation_split,
        image_shape=image_shape, data_dir=data_dir,
        sets=[*ecosystem_sets(precision, no_tensorboard), *(sets or [])],
    )
    scfg = strategy_config(strategy, device, cross_device_ops, worker, task_index,
                           connect_timeout, tpu)
    variants = build_variants(config, activation, output, overrides)
    seeds = plan_seeds(seed, repeats)
    target = new_run_dir("compare", run_dir)
    check_writable(target)
    from mnist_cli.data import load_dataset
    from mnist_cli.strategy import make_strategy, summary_line

    dist, desc = make_strategy(scfg)
    dataset = load_dataset(variants[0].config.data, seeds[0])  # once, for every variant
    console.notes(dataset.description.notes)
    console.info(summary_line(desc, variants[0].config.training.batch_size))
    console.info(f"comparing {', '.join(v.name for v in variants)} "
                 f"with seed(s) {', '.join(map(str, seeds))}")
    summary = run(variants, seeds, target, dataset, dist, desc)
    if json_out:
        console.print_json(summary)
    report(summary, quiet or json_out)


def run(variants: list[Any], seeds: list[int], target: Path, dataset: Any,
        dist: Any = None, desc: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the comparison with a rich progress display (unless quiet) and return its summary;
    under multi-worker only the chief keeps the compare directory."""
    from mnist_cli.cli.progress import make_progress, progress_callback
    from mnist_cli.compare import run_comparison
    from mnist_cli.strategy import run_dir_for

    progress = None if console.Mode.quiet else make_progress()

    def callbacks_for(label: str) -> list[Any]:
        return [progress_callback(progress, label)] if progress else []

    with progress or nullcontext(), run_dir_for(desc or {}, target) as where:
        comparison = run_comparison(variants, seeds, where, dataset=dataset, strategy=dist,
                                    strategy_desc=desc,
                                    callbacks_for=callbacks_for, command=sys.argv)
    return comparison.summary

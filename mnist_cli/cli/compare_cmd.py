"""`mnist-cli compare`: the seed's softmax-vs-ReLU experiment, generalised, with statistics."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mnist_cli.cli import console
from mnist_cli.cli.groups import GROUP, with_groups
from mnist_cli.cli.options import (
    MODEL,
    OUTPUT,
    DataOptions,
    OutputOptions,
    PrecisionOpt,
    StrategyOptions,
    TrainingOptions,
    group_overrides,
)
from mnist_cli.flows.train import new_target

ConfigsOpt = Annotated[list[str] | None, typer.Option(
    "--config", "-c", metavar="NAME|FILE", rich_help_panel=MODEL,
    help="A variant's config file or shipped name (repeatable).")]
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


def report(summary: dict[str, Any], quiet: bool) -> None:
    """The table, which pairwise test ran and one verdict per pair on stdout; file locations
    on stderr."""
    from mnist_cli.comparison.report import sentences, table

    if quiet:
        return
    print_table(table(summary))
    for line in sentences(summary):
        console.out.print(line, soft_wrap=True)
    console.info(f"comparison written to {summary['compare_dir']}")


@with_groups(training=TrainingOptions, source=DataOptions, dist=StrategyOptions,
             out=OutputOptions.pick("json_out", "quiet", "verbose", "no_tensorboard",
                                    "progress", "fail_under"))
def compare(
    config: ConfigsOpt = None,
    activation: ActivationsOpt = None,
    output: OutputsOpt = None,
    repeats: RepeatsOpt = 1,
    training: TrainingOptions = GROUP,
    source: DataOptions = GROUP,
    run_dir: CompareDirOpt = None,
    out: OutputOptions = GROUP,
    dist: StrategyOptions = GROUP,
    precision: PrecisionOpt = None,
) -> None:
    """Train several variants on the same data and seeds; rank them on validation accuracy and
    test every pair for a significant difference on the test set."""
    out.apply()
    from mnist_cli.comparison import build_variants, plan_seeds
    from mnist_cli.scoring.gates import COMPARE_METRICS

    gates = out.gates(COMPARE_METRICS)  # a bad mode or gate is exit 2 before anything runs
    overrides = group_overrides(training, source, out, precision=precision)
    scfg = dist.config()
    variants = build_variants(config, activation, output, overrides)
    seeds = plan_seeds(training.seed, repeats)
    target = new_target("compare", run_dir)
    console.set_run_dir(target)
    comparison = run(variants, seeds, target, scfg, out.progress)
    summary = comparison.summary
    if out.json_out:
        console.print_json(summary)
    report(summary, out.silent)
    finish_gates(gates, summary, comparison.chief)


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


def run(variants: list[Any], seeds: list[int], target: Path, scfg: Any,
        progress: str = "auto") -> Any:
    """Run the comparison with a progress display (`--progress`) and return it; under
    multi-worker only the chief keeps the compare directory."""
    from mnist_cli.cli.progress import TrainDisplay
    from mnist_cli.flows.compare import compare_flow

    def display_for(samples: int) -> tuple[Any, Any]:
        display = TrainDisplay(progress, samples=samples, labelled=True)
        return display, display.callbacks

    return compare_flow(variants, seeds, target, scfg, display_for=display_for,
                        notify=console.info, command=sys.argv)

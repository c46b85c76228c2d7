"""`mnist-cli train`."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from rich.table import Table

from mnist_cli.cli import console
from mnist_cli.cli.groups import GROUP, with_groups
from mnist_cli.cli.options import (
    ActivationOpt,
    ConfigOpt,
    DataOptions,
    DeterministicOpt,
    OutputOptions,
    PrecisionOpt,
    ResumeOpt,
    RunDirOpt,
    StrategyOptions,
    TrainingOptions,
    group_overrides,
)
from mnist_cli.config import resolve_config
from mnist_cli.flows.train import new_target, resume_target, train_flow


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


@with_groups(training=TrainingOptions, source=DataOptions, out=OutputOptions,
             dist=StrategyOptions)
def train(
    config: ConfigOpt = None,
    activation: ActivationOpt = None,
    training: TrainingOptions = GROUP,
    source: DataOptions = GROUP,
    run_dir: RunDirOpt = None,
    resume: ResumeOpt = None,
    deterministic: DeterministicOpt = None,
    out: OutputOptions = GROUP,
    dist: StrategyOptions = GROUP,
    precision: PrecisionOpt = None,
) -> None:
    """Train a model from a YAML config and write a run directory."""
    out.apply()
    from mnist_cli.cli.progress import TrainDisplay
    from mnist_cli.scoring.gates import TRAIN_METRICS

    gates = out.gates(TRAIN_METRICS)  # a bad mode or gate is exit 2 before anything runs
    if resume is not None:
        flags = {"--config": config, "--activation": activation, **training.flags(),
                 **source.flags(), "--run-dir": run_dir,
                 "--[no-]deterministic": deterministic is not None,
                 "--precision": precision, "--no-tensorboard": out.no_tensorboard}
        cfg, target = resume_target(resume, flags, notify=console.info)
    else:
        det = [] if deterministic is None else [f"training.deterministic={deterministic}"]
        training = replace(training, sets=[*det, *(training.sets or [])])
        cfg = resolve_config(config, group_overrides(training, source, out,
                                                     activation=activation,
                                                     precision=precision))
        target = new_target(cfg.name, run_dir)
    console.set_run_dir(target)

    def display_for(samples: int) -> tuple[Any, list[Any]]:
        display = TrainDisplay(out.progress, samples=samples)
        return display, display.callbacks(cfg.name)

    result = train_flow(cfg, target, dist.config(), plots=not out.no_plots,
                        display_for=display_for, notify=console.info, command=sys.argv)
    if out.json_out:
        console.print_json(result.metrics)
    elif not out.quiet:
        console.out.print(summary_table(result.metrics))
    if out.verbose and "timings" in result.metrics:
        from mnist_cli.runs.timings import timings_line

        console.info(timings_line(result.metrics["timings"]))
    finish_gates(gates, result.metrics, result.chief)


def finish_gates(gates: list[Any], metrics: dict[str, Any], chief: bool = True) -> None:
    """Step summary (when GITHUB_STEP_SUMMARY is set), then the gates: exit 1 naming each
    failed one, now that every artifact is written."""
    from mnist_cli.cli.ci_summary import train_markdown
    from mnist_cli.scoring.gates import enforce, evaluate_gates

    results = evaluate_gates(gates, metrics)
    if chief:
        console.step_summary(train_markdown(metrics, results))
    enforce(results)

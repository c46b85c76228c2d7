"""`mnist-cli evaluate`: full metrics for a trained model, as tables, JSON and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mnist_cli.cli import console
from mnist_cli.cli.options import (
    ConnectTimeoutOpt,
    CrossOpsOpt,
    DataDirOpt,
    DataOpt,
    DeviceOpt,
    FailUnderOpt,
    ImageShapeOpt,
    JsonOpt,
    NoPlotsOpt,
    ProgressOpt,
    QuietOpt,
    StrategyOpt,
    TaskIndexOpt,
    TpuOpt,
    VerboseOpt,
    WorkerOpt,
    strategy_config,
)
from mnist_cli.strategy.config import CrossDeviceOps
from mnist_cli.tfenv import set_verbose

PROGRESS_MIN = 5000  # examples; smaller inputs finish before progress would help

TargetArg = Annotated[Path, typer.Argument(
    help="A run directory written by `mnist-cli train`, or a .keras model file.")]


def metrics_table(res: dict[str, Any]) -> Table:
    table = Table(title="Evaluation", show_header=False)
    table.add_row("data", res["source"])
    for key, label in (("loss", "loss"), ("accuracy", "accuracy"),
                       ("balanced_accuracy", "balanced accuracy")):
        table.add_row(label, f"{res[key]:.4f}")
    table.add_row("examples", f"{res['examples']:,}")
    return table


def report_table(res: dict[str, Any]) -> Table:
    table = Table(title="Per class (scikit-learn classification report)")
    for col in ("class", "precision", "recall", "f1", "support"):
        table.add_column(col, justify="right")
    for row in res["per_class"]:
        table.add_row(str(row["class"]), f"{row['precision']:.3f}", f"{row['recall']:.3f}",
                      f"{row['f1']:.3f}", str(row["support"]))
    for name, avg in res["averages"].items():
        table.add_row(name, f"{avg['precision']:.3f}", f"{avg['recall']:.3f}",
                      f"{avg['f1-score']:.3f}", str(int(avg["support"])), style="bold")
    return table


def confusion_table(res: dict[str, Any]) -> Table:
    matrix = res["confusion_matrix"]
    table = Table(title="Confusion matrix (rows: true, columns: predicted)")
    table.add_column("true", justify="right", style="bold")
    for c in range(len(matrix)):
        table.add_column(str(c), justify="right")
    for c, row in enumerate(matrix):
        table.add_row(str(c), *(f"[green]{n}[/]" if i == c else (str(n) if n else "[dim]0[/]")
                                for i, n in enumerate(row)))
    return table


def evaluate(
    target: TargetArg,
    data: DataOpt = None,
    image_shape: ImageShapeOpt = None,
    data_dir: DataDirOpt = None,
    no_plots: NoPlotsOpt = False,
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
    progress: ProgressOpt = "auto",
    fail_under: FailUnderOpt = None,
) -> None:
    """Score a trained model: loss, accuracy, balanced accuracy, per-class report, confusion."""
    console.set_mode(quiet=quiet or json_out, json_out=json_out)
    set_verbose(verbose)
    from mnist_cli.cli.progress import resolve_mode
    from mnist_cli.gates import EVALUATE_METRICS, parse_gates

    resolve_mode(progress)  # a bad mode or gate is exit 2 before anything runs
    gates = parse_gates(fail_under, EVALUATE_METRICS)
    scfg = strategy_config(strategy, device, cross_device_ops, worker, task_index,
                           connect_timeout, tpu)
    from mnist_cli.evaluate import BATCH_SIZE, evaluate_model, load_split, save_evaluation
    from mnist_cli.modelio import load_model
    from mnist_cli.strategy import make_strategy, summary_line

    dist, desc = make_strategy(scfg)
    loaded = load_model(target, strategy=dist)
    split, source = load_split(loaded, data, image_shape=list(image_shape) if image_shape else None,
                               data_dir=data_dir, require_labels=True)
    console.info(summary_line(desc, BATCH_SIZE))
    console.info(f"evaluating {loaded.model_path} on {source} ({len(split):,} examples)")
    console.set_run_dir(loaded.run_dir)
    with batch_display(progress, "evaluate", len(split), BATCH_SIZE) as display:
        result = evaluate_model(loaded, split, source, callbacks=display.callbacks(),
                                strategy=dist)
    files: dict[str, str] = {}
    chief = desc.get("is_chief", True)
    if chief:  # other multi-worker tasks compute the same, write nothing
        files = save_evaluation(loaded, result, split.x, plots=not no_plots)
    res = {**result.to_dict(), "output_form": loaded.output_form, "files": files}
    if json_out:
        console.print_json(res)
    elif not quiet:
        for table in (metrics_table(res), report_table(res), confusion_table(res)):
            console.out.print(table)
        if files:
            console.info("wrote " + ", ".join(files.values()))
    finish_gates(gates, res, chief)


def batch_display(mode: str, label: str, examples: int, batch_size: int) -> Any:
    """Progress for a long predict/evaluate (none below PROGRESS_MIN examples)."""
    from mnist_cli.cli.progress import BatchDisplay

    mode = mode if examples >= PROGRESS_MIN else "none"
    return BatchDisplay(mode, label, -(-examples // batch_size), examples)


def finish_gates(gates: list[Any], res: dict[str, Any], chief: bool = True) -> None:
    """Step summary (when GITHUB_STEP_SUMMARY is set), then exit 1 on any failed gate."""
    from mnist_cli.ci_summary import evaluate_markdown
    from mnist_cli.gates import enforce, evaluate_gates

    results = evaluate_gates(gates, res)
    if chief:
        console.step_summary(evaluate_markdown(res, results))
    enforce(results)

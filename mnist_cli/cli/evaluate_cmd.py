"""`mnist-cli evaluate`: full metrics for a trained model, as tables, JSON and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mnist_cli import api
from mnist_cli.cli import console
from mnist_cli.cli import options as opt
from mnist_cli.distribute import CrossDeviceOps

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
    """Per-class rows; '-' where a ratio is undefined (left out of the averages)."""
    undefined = any(r[k] is None for r in res["per_class"] for k in ("precision", "recall"))
    caption = ("absent: no examples of the class in this data; - = undefined (nothing to "
               "count), left out of the averages") if undefined else None
    table = Table(title="Per class (scikit-learn classification report)", caption=caption)
    for col in ("class", "precision", "recall", "f1", "support"):
        table.add_column(col, justify="right")
    for row in res["per_class"]:
        label = escape(row.get("name", str(row["class"])))
        name = f"{label} (absent)" if row.get("absent") else label
        table.add_row(name, *(_ratio(row[k]) for k in ("precision", "recall", "f1")),
                      str(row["support"]), style="dim" if row.get("absent") else None)
    for name, avg in res["averages"].items():
        table.add_row(name, *(_ratio(avg[k]) for k in ("precision", "recall", "f1-score")),
                      str(int(avg["support"])), style="bold")
    return table


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def confusion_table(res: dict[str, Any]) -> Table:
    from mnist_cli.data.class_names import label_texts

    matrix = res["confusion_matrix"]
    labels = [escape(t) for t in label_texts(len(matrix), res.get("class_names"))]
    table = Table(title="Confusion matrix (rows: true, columns: predicted)")
    table.add_column("true", justify="right", style="bold")
    for c in range(len(matrix)):
        table.add_column(labels[c], justify="right")
    for c, row in enumerate(matrix):
        table.add_row(labels[c], *(f"[green]{n}[/]" if i == c else (str(n) if n else "[dim]0[/]")
                                for i, n in enumerate(row)))
    return table


def evaluate(
    target: TargetArg,
    data: opt.DataOpt = None,
    image_shape: opt.ImageShapeOpt = None,
    data_dir: opt.DataDirOpt = None,
    label_column: opt.LabelColumnOpt = None,
    pixel_max: opt.PixelMaxOpt = None,
    class_names: opt.ClassNamesOpt = None,
    no_plots: opt.NoPlotsOpt = False,
    json_out: opt.JsonOpt = False,
    quiet: opt.QuietOpt = False,
    verbose: opt.VerboseOpt = False,
    progress: opt.ProgressOpt = "auto",
    fail_under: opt.FailUnderOpt = None,
    backend: opt.BackendOpt = None,
    strategy: opt.StrategyOpt = "auto",
    device: opt.DeviceOpt = None,
    cross_device_ops: opt.CrossOpsOpt = CrossDeviceOps.auto,
    worker: opt.WorkerOpt = None,
    task_index: opt.TaskIndexOpt = None,
    connect_timeout: opt.ConnectTimeoutOpt = 60.0,
    tpu: opt.TpuOpt = None,
) -> None:
    """Score a trained model: loss, accuracy, balanced accuracy, per-class report, confusion."""
    keywords = console.api_keywords(locals())
    from mnist_cli.scoring.gates import EVALUATE_METRICS, parse_gates

    ui = console.start(progress, quiet=quiet, json_out=json_out, verbose=verbose)
    gates = parse_gates(fail_under, EVALUATE_METRICS)  # exit 2 before anything runs
    ev = api.evaluate(**keywords, progress=ui)
    res = ev.metrics
    if json_out:
        console.print_json(res)
    elif not quiet:
        for table in (metrics_table(res), report_table(res), confusion_table(res)):
            console.out.print(table)
        if ev.files:
            ui.notify("wrote " + ", ".join(ev.files.values()))
    from mnist_cli.cli.ci_summary import evaluate_markdown

    run = Path(ev.run_dir or target).resolve().name  # heads the job summary
    console.finish_gates(gates, res, (lambda results: evaluate_markdown(res, results, run))
                         if ev.chief else None)

"""`mnist-cli evaluate`: full metrics for a trained model, as tables, JSON and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mnist_cli.cli import console
from mnist_cli.cli.groups import GROUP, with_groups
from mnist_cli.cli.options import DataOptions, OutputOptions, StrategyOptions

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


@with_groups(
    source=DataOptions.pick("data", "image_shape", "data_dir", "label_column", "pixel_max",
                            "class_names"),
    out=OutputOptions.pick("no_plots", "json_out", "quiet", "verbose", "progress",
                           "fail_under"),
    dist=StrategyOptions)
def evaluate(
    target: TargetArg,
    source: DataOptions = GROUP,
    out: OutputOptions = GROUP,
    dist: StrategyOptions = GROUP,
) -> None:
    """Score a trained model: loss, accuracy, balanced accuracy, per-class report, confusion."""
    out.apply()
    from mnist_cli.scoring.gates import EVALUATE_METRICS

    gates = out.gates(EVALUATE_METRICS)  # a bad mode or gate is exit 2 before anything runs
    scfg = dist.config()
    from mnist_cli.flows.evaluate import evaluate_flow

    console.set_run_dir(Path(target) if Path(target).is_dir() else None)
    done = evaluate_flow(target, scfg, data=source.data, data_dir=source.data_dir,
                         plots=not out.no_plots, image_shape=source.shape(),
                         label_column=source.label_column, pixel_max=source.pixel_max,
                         class_names=source.names(), notify=console.info,
                         progress_for=batch_progress(out.progress, "evaluate"))
    res, files, chief = done.report, done.files, done.chief
    if out.json_out:
        console.print_json(res)
    elif not out.quiet:
        for table in (metrics_table(res), report_table(res), confusion_table(res)):
            console.out.print(table)
        if files:
            console.info("wrote " + ", ".join(files.values()))
    finish_gates(gates, res, chief)


def batch_progress(mode: str, label: str) -> Any:
    """A flow's `progress_for`: the display of a long predict/evaluate (none below
    PROGRESS_MIN examples) and the Keras callbacks driving it."""

    def progress_for(examples: int) -> tuple[Any, list[Any]]:
        from mnist_cli.cli.progress import BatchDisplay
        from mnist_cli.scoring.evaluation import BATCH_SIZE

        shown = mode if examples >= PROGRESS_MIN else "none"
        display = BatchDisplay(shown, label, -(-examples // BATCH_SIZE), examples)
        return display, display.callbacks()

    return progress_for


def finish_gates(gates: list[Any], res: dict[str, Any], chief: bool = True) -> None:
    """Step summary (when GITHUB_STEP_SUMMARY is set), then exit 1 on any failed gate."""
    from mnist_cli.cli.ci_summary import evaluate_markdown
    from mnist_cli.scoring.gates import enforce, evaluate_gates

    results = evaluate_gates(gates, res)
    if chief:
        console.step_summary(evaluate_markdown(res, results))
    enforce(results)

"""The comparison's files and display: comparison.json/.csv/.png and one rich table (ranked
on validation accuracy, winner named, caption saying what ranked and what the ± means)."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich import box
from rich.table import Table

from mnist_cli.comparison.plot import plot_comparison
from mnist_cli.comparison.summary import summarize
from mnist_cli.comparison.types import ComparisonRuns
from mnist_cli.runs.artifacts import write_json, write_text

CSV_COLUMNS = ("rank", "variant", "status", "params", "val_accuracy", "val_accuracy_std",
               "test_accuracy", "test_accuracy_std", "test_accuracy_ci95_low",
               "test_accuracy_ci95_high", "balanced_accuracy", "balanced_accuracy_std",
               "final_loss", "final_val_loss", "epochs_run", "train_seconds",
               "samples_per_second", "seeds", "error")
METRIC_WORDS = {"val_accuracy": "validation accuracy", "test_accuracy": "test accuracy"}


def csv_text(summary: dict[str, Any]) -> str:
    """One row per variant, best first; an undefined std or interval is an empty cell."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for e in summary["variants"]:
        ci = e["test_accuracy_ci95"] or [None, None]
        writer.writerow({**e, "variant": e["name"], "error": e["error"] or "",
                         "seeds": " ".join(str(r["seed"]) for r in e["runs"]),
                         "test_accuracy_ci95_low": ci[0], "test_accuracy_ci95_high": ci[1]})
    return buf.getvalue()


def interval_note(summary: dict[str, Any]) -> str:
    n = summary["repeats"]
    if n < 2:
        return "One seed per variant: no spread or interval can be estimated (std is null)."
    return (f"test acc: mean ± half-width of its t-based 95% confidence interval over {n} "
            "seeds.")


def caption_lines(summary: dict[str, Any]) -> list[str]:
    """What ranked, what ± means, ties and seeds used (plain text: the CI step summary shows
    the same lines)."""
    lines = [summary["ranking"], interval_note(summary)]
    if summary["tied_with_winner"]:
        tied = ", ".join(summary["tied_with_winner"])
        lines.append(f"{summary['winner']} ties with {tied} on the ranking metric; listed "
                     "first only by variant order.")
    lines.append(f"{summary['repeats']} seed(s) per variant: "
                 + ", ".join(map(str, summary["seeds"])))
    return lines


def _caption(summary: dict[str, Any]) -> str:
    """The caption lines, then each failed variant's cause."""
    lines = caption_lines(summary)
    lines += [f"[red]{e['name']} failed:[/] {e['error']}" for e in summary["variants"]
              if e["status"] != "completed"]
    return "\n".join(lines)


def _with_ci(mean: float | None, ci: list[float] | None) -> str:
    """'0.941±0.011' (CI half-width) when there is an interval, else just the mean."""
    if mean is None:
        return "-"
    return f"{mean:.3f}±{ci[1] - mean:.3f}" if ci else f"{mean:.4f}"


def _cells(e: dict[str, Any]) -> list[str]:
    """Table cells (balanced accuracy and samples/s are in the JSON and CSV: 80 columns)."""
    params = f"{e['params']:,}" if e["params"] else "-"
    if e["status"] != "completed":
        return [params, "[red]FAILED[/]", *["-"] * 5]
    means = [("val_accuracy", ".4f"), ("final_loss", ".3f"), ("final_val_loss", ".3f"),
             ("epochs_run", ".0f"), ("train_seconds", ".1f")]
    cells = ["-" if e[k] is None else f"{e[k]:{spec}}" for k, spec in means]
    return [params, cells[0], _with_ci(e["test_accuracy"], e["test_accuracy_ci95"]),
            *cells[1:]]


def table(summary: dict[str, Any]) -> Table:
    """One rich table, best first on the ranking metric, the winner in the title."""
    winner = summary["winner"] or "none (every variant failed)"
    title = f"Comparison: best on {METRIC_WORDS[summary['ranked_by']]}: [bold]{winner}[/]"
    t = Table(title=title, caption=_caption(summary), box=box.SIMPLE_HEAD, padding=(0, 1),
              collapse_padding=True, show_edge=False, caption_justify="left", min_width=80)
    width = max(len(e["name"]) for e in summary["variants"])
    t.add_column("#", justify="right", no_wrap=True)
    t.add_column("variant", overflow="fold", min_width=min(width, 12))
    for col in ("params", "val acc", "test acc", "loss", "val loss", "epochs", "sec"):
        t.add_column(col, justify="right", no_wrap=True)
    for e in summary["variants"]:
        name = f"[bold]{e['name']}[/]" if e["name"] == summary["winner"] else e["name"]
        t.add_row(str(e["rank"]), name, *_cells(e))
    return t


def method_line(summary: dict[str, Any]) -> str:
    """Which pairwise test ran, over how many tests, corrected how."""
    plan = summary["pair_test"]
    return (f"Pairwise tests: {plan['method']}, {plan['tests']} test(s), correction: "
            f"{plan['correction']}, α = {plan['alpha']:g}.")


def sentences(summary: dict[str, Any]) -> list[str]:
    """The test line, then one verdict sentence per pair (none when fewer than 2 completed)."""
    if not summary["pairs"]:
        return []
    return [method_line(summary), *(p["sentence"] for p in summary["pairs"])]


def write_artifacts(comp: ComparisonRuns) -> dict[str, Any]:
    """comparison.json, comparison.csv and comparison.png in the compare directory."""
    comp.summary = summarize(comp)
    files = comp.summary["files"]
    plot_comparison(comp, files["png"])
    write_text(files["csv"], csv_text(comp.summary))
    write_json(files["json"], comp.summary)
    return comp.summary

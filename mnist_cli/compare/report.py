"""The comparison as a JSON object, a CSV, and one rich table (best first, winner named)."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

import numpy as np
from rich import box
from rich.table import Table

from mnist_cli.artifacts import write_json, write_text
from mnist_cli.compare.run import Comparison, RunOutcome
from mnist_cli.compare.stats import intervals_overlap, mcnemar
from mnist_cli.compare.variants import Variant

AGGREGATED = ("test_accuracy", "balanced_accuracy", "final_loss", "final_val_loss",
              "epochs_run", "train_seconds", "samples_per_second")
CSV_COLUMNS = ("rank", "variant", "status", "params", "test_accuracy", "test_accuracy_std",
               "balanced_accuracy", "balanced_accuracy_std", "final_loss", "final_val_loss",
               "epochs_run", "train_seconds", "samples_per_second", "seeds", "error")


def run_values(run: RunOutcome) -> dict[str, float]:
    m, final = run.metrics, run.metrics.get("final", {})
    values = {k: m.get(k) for k in ("test_accuracy", "balanced_accuracy", "epochs_run",
                                    "train_seconds", "samples_per_second")}
    values.update(final_loss=final.get("loss"), final_val_loss=final.get("val_loss"))
    return {k: float(v) for k, v in values.items() if v is not None}


def mean_std(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (0 for a single run)."""
    if not values:
        return None, None
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return float(np.mean(values)), std


def run_entry(run: RunOutcome) -> dict[str, Any]:
    return {"seed": run.seed, "status": run.status, "run_dir": str(run.run_dir),
            "error": run.error, **run_values(run)}


def failure_cause(failed: list[RunOutcome], total: int) -> str | None:
    """The first failed seed's cause, and how many seeds failed (details stay per run)."""
    if not failed:
        return None
    first = failed[0]
    more = f" ({len(failed)} of {total} seeds failed)" if total > 1 else ""
    return f"seed {first.seed}: {first.error}{more}"


def variant_entry(comp: Comparison, v: Variant) -> dict[str, Any]:
    """Mean +- std over seeds; any failed seed makes the whole variant failed (with its cause)."""
    runs = comp.runs_of(v.name)
    failed = [r for r in runs if r.status != "completed"]
    entry: dict[str, Any] = {
        "name": v.name, "status": "failed" if failed else "completed",
        "error": failure_cause(failed, len(runs)),
        "config": v.config.name, "output": v.config.model.output,
        "params": next((r.metrics["params"] for r in runs if "params" in r.metrics), None),
    }
    per_run = [run_values(r) for r in runs if r.status == "completed"]
    for key in AGGREGATED:
        entry[key], entry[f"{key}_std"] = mean_std([p[key] for p in per_run if key in p])
    entry["runs"] = [run_entry(r) for r in runs]
    return entry


def ranked(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Completed variants by mean test accuracy, best first; failed ones last."""
    done = sorted((e for e in entries if e["status"] == "completed"),
                  key=lambda e: -e["test_accuracy"])
    ordered = done + [e for e in entries if e["status"] != "completed"]
    for i, e in enumerate(ordered, start=1):
        e["rank"] = i
    return ordered


def pair_tests(comp: Comparison, ordered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """McNemar on each pair's first-seed predictions, plus interval overlap with repeats."""
    done = [e for e in ordered if e["status"] == "completed"]
    pairs = []
    for a, b in itertools.combinations(done, 2):
        pa, pb = comp.runs_of(a["name"])[0], comp.runs_of(b["name"])[0]
        test = mcnemar(a["name"], b["name"], comp.y_test, pa.predictions, pb.predictions)
        item = {**test.to_dict(), "seed_a": pa.seed, "seed_b": pb.seed,
                "intervals_overlap": None}
        if len(comp.seeds) > 1:
            item["intervals_overlap"] = intervals_overlap(
                a["test_accuracy"], a["test_accuracy_std"],
                b["test_accuracy"], b["test_accuracy_std"])
        pairs.append(item)
    return pairs


def summarize(comp: Comparison) -> dict[str, Any]:
    """The comparison object that --json prints and comparison.json holds."""
    ordered = ranked([variant_entry(comp, v) for v in comp.variants])
    winner = next((e["name"] for e in ordered if e["status"] == "completed"), None)
    d = comp.compare_dir
    return {
        "status": "completed" if winner else "failed",
        "winner": winner, "ranked_by": "test_accuracy (mean over seeds)",
        "repeats": len(comp.seeds), "seeds": list(comp.seeds),
        "compare_dir": str(d), "dataset": comp.dataset,
        "variants": ordered, "pairs": pair_tests(comp, ordered),
        "files": {k: str(d / f"comparison.{k}") for k in ("json", "csv", "png")},
    }


def _fmt(value: float | None, std: float | None, spec: str) -> str:
    """'0.941±0.005' when there is a spread to show, else just the mean."""
    if value is None:
        return "-"
    return f"{value:.3f}±{std:.3f}" if std else f"{value:{spec}}"


def csv_text(summary: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for e in summary["variants"]:
        seeds = " ".join(str(r["seed"]) for r in e["runs"])
        writer.writerow({**e, "variant": e["name"], "seeds": seeds, "error": e["error"] or ""})
    return buf.getvalue()


def _caption(summary: dict[str, Any]) -> str:
    """Seeds used, and each failed variant's cause (too long for a cell)."""
    seeds = ", ".join(map(str, summary["seeds"]))
    lines = [f"{summary['repeats']} seed(s) per variant: {seeds}"]
    lines += [f"[red]{e['name']} failed:[/] {e['error']}" for e in summary["variants"]
              if e["status"] != "completed"]
    return "\n".join(lines)


def _cells(e: dict[str, Any]) -> list[str]:
    if e["status"] != "completed":
        return [f"{e['params']:,}" if e["params"] else "-", "[red]FAILED[/]", *["-"] * 6]
    spread = [_fmt(e[k], e[f"{k}_std"], ".4f") for k in ("test_accuracy", "balanced_accuracy")]
    means = [_fmt(e[k], None, s) for k, s in (
        ("final_loss", ".4f"), ("final_val_loss", ".4f"), ("epochs_run", ".0f"),
        ("train_seconds", ".1f"), ("samples_per_second", ",.0f"))]
    return [f"{e['params']:,}", *spread, *means]


def table(summary: dict[str, Any]) -> Table:
    """One rich table, best first, with the winner in the title (fits 80 columns)."""
    winner = summary["winner"] or "none (every variant failed)"
    t = Table(title=f"Comparison: winner [bold]{winner}[/]", caption=_caption(summary),
              box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False, caption_justify="left")
    width = max(len(e["name"]) for e in summary["variants"])
    t.add_column("#", justify="right", no_wrap=True)
    t.add_column("variant", overflow="fold", min_width=min(width, 24))
    for col in ("params", "test acc", "bal acc", "loss", "val loss", "epochs", "sec",
                "samples/s"):
        t.add_column(col, justify="right", no_wrap=True)
    for e in summary["variants"]:
        name = f"[bold]{e['name']}[/]" if e["name"] == summary["winner"] else e["name"]
        t.add_row(str(e["rank"]), name, *_cells(e))
    return t


def sentences(summary: dict[str, Any]) -> list[str]:
    """The McNemar sentence per pair, plus the interval-overlap verdict with repeats."""
    lines = []
    for p in summary["pairs"]:
        line = p["sentence"] + (f" (McNemar, {p['method']})" if p["discordant"] else "")
        if p["intervals_overlap"] is not None:
            word = "overlap" if p["intervals_overlap"] else "do not overlap"
            line += f"; their accuracy intervals (mean ± std) {word}"
        lines.append(line)
    return lines


def write_artifacts(comp: Comparison) -> dict[str, Any]:
    """comparison.json, comparison.csv and comparison.png in the compare directory."""
    from mnist_cli.compare.plot import plot_comparison

    comp.summary = summarize(comp)
    files = comp.summary["files"]
    plot_comparison(comp, files["png"])
    write_text(files["csv"], csv_text(comp.summary))
    write_json(files["json"], comp.summary)
    return comp.summary

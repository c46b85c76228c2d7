"""A markdown job summary for GitHub Actions (`$GITHUB_STEP_SUMMARY`).

GitHub renders whatever a step appends to the file named by `GITHUB_STEP_SUMMARY` on the
run's page, so the metrics (and for `compare` the ranking and its significance sentences)
are readable without downloading the run directory. Nothing happens when it is not set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mnist_cli.scoring.gates import GateResult, shown_threshold

ENV = "GITHUB_STEP_SUMMARY"


def _num(value: Any, spec: str = ".4f") -> str:
    if value is None:
        return "-"
    try:
        return format(float(value), spec)
    except (TypeError, ValueError):
        return str(value)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(rows: list[list[Any]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def gates_section(results: list[GateResult]) -> str:
    if not results:
        return ""
    rows = [[f"`{r.gate.metric}` >= {shown_threshold(r.gate.threshold)}", r.shown_value(),
             "pass" if r.passed else "**FAIL**"] for r in results]
    return "\n\n**Gates**\n\n" + table(rows, ["gate", "value", "result"])


def train_markdown(metrics: dict[str, Any], results: list[GateResult]) -> str:
    final = metrics.get("final", {})
    rows = [["test accuracy", _num(metrics.get("test_accuracy"))],
            ["balanced accuracy", _num(metrics.get("balanced_accuracy"))],
            ["test loss", _num(metrics.get("test_loss"))],
            ["final val accuracy", _num(final.get("val_accuracy"))],
            ["epochs run", metrics.get("epochs_run", "-")],
            ["train seconds", _num(metrics.get("train_seconds"), ".1f")],
            ["run directory", f"`{metrics.get('run_dir', '-')}`"]]
    title = f"### mnist-cli train: {Path(str(metrics.get('run_dir', ''))).name}"
    return f"{title}\n\n{table(rows, ['metric', 'value'])}{gates_section(results)}\n"


def evaluate_markdown(result: dict[str, Any], results: list[GateResult], run: str) -> str:
    """Headed by the run (or model file) scored, so two evaluate steps can be told apart."""
    rows = [["data", result.get("source", "-")],
            ["accuracy", _num(result.get("accuracy"))],
            ["balanced accuracy", _num(result.get("balanced_accuracy"))],
            ["loss", _num(result.get("loss"))],
            ["examples", f"{result.get('examples', 0):,}"]]
    return (f"### mnist-cli evaluate: {run}\n\n{table(rows, ['metric', 'value'])}"
            f"{gates_section(results)}\n")


def compare_sentences(summary: dict[str, Any]) -> list[str]:
    """Every significance sentence the compare result carries: a top-level `sentences`
    list if present, else each pair's `sentence` (whatever test produced it)."""
    if isinstance(summary.get("sentences"), list):
        return [str(s) for s in summary["sentences"]]
    return [str(p["sentence"]) for p in summary.get("pairs", [])
            if isinstance(p, dict) and p.get("sentence")]


def _mean_ci(mean: Any, ci: list[float] | None) -> str:
    """'0.9410 ± 0.0110' (half-width of the 95% CI, as the terminal table) or the mean."""
    if mean is None or not ci:
        return _num(mean)
    return f"{_num(mean)} ± {_num(ci[1] - mean)}"


def compare_rows(summary: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows, best first; the ranking metric's column comes first and is marked."""
    from mnist_cli.comparison.report import METRIC_WORDS

    by = summary.get("ranked_by", "test_accuracy")
    extra = [] if by == "test_accuracy" else [by]
    header = ["#", "variant", *(f"{METRIC_WORDS.get(k, k)} (ranked)" for k in extra),
              "test accuracy" + (" (ranked)" if by == "test_accuracy" else ""),
              "balanced accuracy", "status"]
    rows = []
    for e in summary.get("variants", []):
        status = e.get("status", "-") if e.get("status") == "completed" else (
            f"failed: {e.get('error') or ''}")
        rows.append([e.get("rank", "-"), e.get("name", "-"), *(_num(e.get(k)) for k in extra),
                     _mean_ci(e.get("test_accuracy"), e.get("test_accuracy_ci95")),
                     _num(e.get("balanced_accuracy")), status])
    return header, rows


def compare_markdown(summary: dict[str, Any], results: list[GateResult]) -> str:
    header, rows = compare_rows(summary)
    winner = summary.get("winner") or "none (every variant failed)"
    text = f"### mnist-cli compare: winner {winner}\n\n" + table(rows, header)
    if summary.get("ranking"):  # the terminal table's caption, one paragraph per line
        from mnist_cli.comparison.report import caption_lines

        text += "\n\n" + "\n\n".join(caption_lines(summary))
    sentences = compare_sentences(summary)
    if sentences:
        text += "\n\n" + "\n".join(f"- {s}" for s in sentences)
    return text + gates_section(results) + "\n"


def append(markdown: str) -> Path | None:
    """Append to `$GITHUB_STEP_SUMMARY` if set; returns the file written (None if unset).
    An unwritable summary file raises OSError: the caller reports it as a warning."""
    target = os.environ.get(ENV)
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(markdown + "\n")
    return Path(target)

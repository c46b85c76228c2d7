"""The comparison object (comparison.json, `--json`): every variant's numbers over seeds,
the ranking on validation accuracy, and the pairwise tests.

Ranking on test accuracy would be selection on the test set, so the winner is chosen on the
validation accuracy of the weights each run kept (`metrics["final"]`), and test accuracy is
reported for every variant. Without a validation split the ranking says it used test data.
"""

from __future__ import annotations

from typing import Any

from mnist_cli.comparison.pairs import pair_tests
from mnist_cli.comparison.stats import mean_std_ci
from mnist_cli.comparison.types import ComparisonRuns, RunOutcome
from mnist_cli.comparison.variants import Variant
from mnist_cli.runs.rundir import COMPARISON

AGGREGATED = ("val_accuracy", "test_accuracy", "balanced_accuracy", "final_loss",
              "final_val_loss", "epochs_run", "train_seconds", "samples_per_second")
WITH_INTERVAL = ("val_accuracy", "test_accuracy")


def run_values(run: RunOutcome) -> dict[str, float]:
    """One run's numbers; validation values are those of the weights the run kept."""
    m, final = run.metrics, run.metrics.get("final", {})
    values = {k: m.get(k) for k in ("test_accuracy", "balanced_accuracy", "epochs_run",
                                    "train_seconds", "samples_per_second")}
    values.update(final_loss=final.get("loss"), final_val_loss=final.get("val_loss"),
                  val_accuracy=final.get("val_accuracy"))
    return {k: float(v) for k, v in values.items() if v is not None}


def failure_cause(failed: list[RunOutcome], total: int) -> str | None:
    """The first failed seed's cause, and how many seeds failed (details stay per run)."""
    if not failed:
        return None
    first = failed[0]
    more = f" ({len(failed)} of {total} seeds failed)" if total > 1 else ""
    return f"seed {first.seed}: {first.error}{more}"


def variant_entry(comp: ComparisonRuns, v: Variant) -> dict[str, Any]:
    """Mean, std (None for one seed) and t-based 95% CI over seeds; any failed seed makes the
    whole variant failed (with its cause)."""
    runs = comp.runs_of(v.name)
    failed = [r for r in runs if r.status != "completed"]
    entry: dict[str, Any] = {
        "name": v.name, "status": "failed" if failed else "completed",
        "error": failure_cause(failed, len(runs)),
        "config": v.base or v.config.name, "output": v.config.model.output,
        "params": next((r.metrics["params"] for r in runs if "params" in r.metrics), None),
    }
    per_run = [run_values(r) for r in runs if r.status == "completed"]
    for key in AGGREGATED:
        mean, std, ci = mean_std_ci([p[key] for p in per_run if key in p])
        entry[key], entry[f"{key}_std"] = mean, std
        if key in WITH_INTERVAL:
            entry[f"{key}_ci95"] = ci
    entry["runs"] = [{"seed": r.seed, "status": r.status, "run_dir": str(r.run_dir),
                      "error": r.error, **run_values(r)} for r in runs]
    return entry


def rank_metric(comp: ComparisonRuns, entries: list[dict[str, Any]]) -> str:
    """val_accuracy when every completed variant has one, else test_accuracy."""
    done = [e for e in entries if e["status"] == "completed"]
    has_val = comp.validation and all(e["val_accuracy"] is not None for e in done)
    return "val_accuracy" if has_val else "test_accuracy"


def ranked(entries: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Completed variants by mean `by`, best first (stable: ties keep variant order);
    failed ones last."""
    done = sorted((e for e in entries if e["status"] == "completed"), key=lambda e: -e[by])
    ordered = done + [e for e in entries if e["status"] != "completed"]
    for i, e in enumerate(ordered, start=1):
        e["rank"] = i
    return ordered


def ranking_note(by: str, repeats: int, validation: bool) -> str:
    """The caption's sentence on what chose the winner."""
    over = f"mean over {repeats} seeds" if repeats > 1 else "one seed"
    if by == "val_accuracy":
        return (f"Ranked by validation accuracy ({over}) of the weights each run kept; test "
                "accuracy is reported for every variant and was not used to choose.")
    why = ("there is no validation split (--validation-split 0)" if not validation
           else "a variant has no validation accuracy")
    return (f"Ranked by test accuracy ({over}): {why}, so the ranking uses the test data and "
            "the winner's test accuracy is optimistic.")


def tied_with(ordered: list[dict[str, Any]], by: str) -> list[str]:
    """Other completed variants whose ranking metric equals the winner's."""
    done = [e for e in ordered if e["status"] == "completed"]
    return [e["name"] for e in done[1:] if done and e[by] == done[0][by]]


def summarize(comp: ComparisonRuns) -> dict[str, Any]:
    """The comparison object that --json prints and comparison.json holds."""
    entries = [variant_entry(comp, v) for v in comp.variants]
    by = rank_metric(comp, entries)
    ordered = ranked(entries, by)
    done = [e["name"] for e in ordered if e["status"] == "completed"]
    plan, pairs = pair_tests(comp, done)
    d = comp.compare_dir
    return {
        "status": "completed" if done else "failed",
        "winner": done[0] if done else None, "tied_with_winner": tied_with(ordered, by),
        "ranked_by": by, "ranking": ranking_note(by, len(comp.seeds), comp.validation),
        "repeats": len(comp.seeds), "seeds": list(comp.seeds),
        "compare_dir": str(d), "dataset": comp.dataset,
        "variants": ordered, "pair_test": plan, "pairs": pairs,
        "files": {k: str(d / name) for k, name in COMPARISON.items()},
    }

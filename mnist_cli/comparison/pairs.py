"""Every pair of completed variants tested on the test set, Holm-corrected, one sentence each.

One seed: McNemar's exact test on the pair's test predictions. Two seeds: that test on every
seed. Three or more: a paired t-test on per-seed test accuracy (seeds are the replicates).
Holm's correction runs over every test in the family (pairs, and seeds where each is tested).
"""

from __future__ import annotations

import itertools
from typing import Any

from mnist_cli.comparison.identical import why_identical
from mnist_cli.comparison.stats import ALPHA, format_p, holm, mcnemar_counts, mcnemar_p, paired_t
from mnist_cli.comparison.types import ComparisonRuns

MCNEMAR = "McNemar exact binomial"
MCNEMAR_PER_SEED = "McNemar exact binomial on every seed"
T_TEST = "paired t-test on per-seed test accuracy"
T_TEST_MIN_SEEDS = 3


def method_for(repeats: int) -> str:
    """The pairwise test these repeats allow (a t-test needs at least 3 seeds)."""
    if repeats >= T_TEST_MIN_SEEDS:
        return T_TEST
    return MCNEMAR if repeats == 1 else MCNEMAR_PER_SEED


def verdict(significant: bool) -> str:
    """The only two things a test can say (it never shows that two variants are equal)."""
    return (f"significant at α = {ALPHA:g}" if significant
            else "not significant: these runs cannot tell them apart")


def mcnemar_records(comp: ComparisonRuns, a: str, b: str) -> list[dict[str, Any]]:
    """One exact McNemar test per seed, on the two variants' predictions for that seed."""
    records = []
    for ra, rb in zip(comp.runs_of(a), comp.runs_of(b), strict=True):
        a_only, b_only = mcnemar_counts(comp.y_test, ra.predictions, rb.predictions)
        records.append({"seed": ra.seed, "a_only": a_only, "b_only": b_only,
                        "discordant": a_only + b_only, "n_test": int(len(comp.y_test)),
                        "p_value": mcnemar_p(a_only, b_only)})
    return records


def t_record(comp: ComparisonRuns, a: str, b: str) -> dict[str, Any]:
    """Paired t-test of the two variants' test accuracies, paired by seed."""
    acc_a = [float(r.metrics["test_accuracy"]) for r in comp.runs_of(a)]
    acc_b = [float(r.metrics["test_accuracy"]) for r in comp.runs_of(b)]
    stat, p = paired_t(acc_a, acc_b)
    diff = sum(acc_a) / len(acc_a) - sum(acc_b) / len(acc_b)
    return {"a_accuracies": acc_a, "b_accuracies": acc_b, "statistic": stat,
            "df": len(acc_a) - 1, "mean_difference": diff, "p_value": p}


def pair_tests(comp: ComparisonRuns,
               names: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(how the pairs were tested, one dict per pair) for completed variants, best first."""
    method = method_for(len(comp.seeds))
    pairs = []
    for a, b in itertools.combinations(names, 2):
        tests = [t_record(comp, a, b)] if method == T_TEST else mcnemar_records(comp, a, b)
        pairs.append({"a": a, "b": b, "method": method, "tests": tests})
    family = [t for p in pairs for t in p["tests"]]
    # an undefined t-test stays in the family as p = 1: it can never be rejected
    adjusted = holm([1.0 if t["p_value"] is None else t["p_value"] for t in family])
    for t, adj in zip(family, adjusted, strict=True):
        t["p_adjusted"] = None if t["p_value"] is None else adj
        t["significant"] = t["p_adjusted"] is not None and t["p_adjusted"] < ALPHA
    for p in pairs:
        conclude(p, len(family))
        p["identical"] = why_identical(comp, p["a"], p["b"])
        if p["identical"]:
            p["sentence"] += f". Note: {p['identical']}."
    plan = {"method": method, "alpha": ALPHA, "tests": len(family),
            "correction": "Holm" if len(family) > 1 else "none (a single test)"}
    return plan, pairs


def conclude(pair: dict[str, Any], family: int) -> None:
    """Pair-level verdict, favoured variant and sentence from its test(s)."""
    tests = pair["tests"]
    known = [t for t in tests if t["p_value"] is not None]
    pair["p_value"] = min((t["p_value"] for t in known), default=None)
    pair["p_adjusted"] = min((t["p_adjusted"] for t in known), default=None)
    pair["significant"] = any(t["significant"] for t in tests)
    winners = {favoured(pair, t) for t in tests if t["significant"]}
    pair["better"] = winners.pop() if len(winners) == 1 else None
    pair["sentence"] = sentence(pair, family)


def favoured(pair: dict[str, Any], test: dict[str, Any]) -> str:
    """The variant a test's data favour."""
    ahead = test["mean_difference"] > 0 if "mean_difference" in test else (
        test["a_only"] > test["b_only"])
    return pair["a"] if ahead else pair["b"]


def p_text(test: dict[str, Any], family: int) -> str:
    if test["p_value"] is None:
        return "undefined: every seed differs by the same amount, so there is no spread"
    text = format_p(test["p_value"])
    return text + (f", Holm-adjusted {format_p(test['p_adjusted'])}" if family > 1 else "")


def mcnemar_text(pair: dict[str, Any], t: dict[str, Any], family: int) -> str:
    a, b = pair["a"], pair["b"]
    if not t["discordant"]:
        counts = f"on none of the {t['n_test']} test digits is only one of them right"
    else:
        counts = (f"{a} right on {t['a_only']}, {b} on {t['b_only']} of the {t['discordant']} "
                  "test digits where only one of them is right")
    return f"{counts}; {p_text(t, family)}"


def sentence(pair: dict[str, Any], family: int) -> str:
    """'a vs b: <verdict>[, X is better] (evidence; test, p)'."""
    a, b, tests = pair["a"], pair["b"], pair["tests"]
    head = f"{a} vs {b}: {verdict(pair['significant'])}"
    if pair["better"]:
        head += f", {pair['better']} is better"
    elif pair["significant"]:
        head += ", in opposite directions on different seeds"
    if pair["method"] == T_TEST:
        t = tests[0]
        n = len(t["a_accuracies"])
        stat = "" if t["statistic"] is None else f"t = {t['statistic']:.2f}, df = {t['df']}, "
        return (f"{head} (mean test accuracy {sum(t['a_accuracies']) / n:.4f} vs "
                f"{sum(t['b_accuracies']) / n:.4f} over {n} seeds; {T_TEST}, {stat}"
                f"{p_text(t, family)})")
    if len(tests) == 1:
        return f"{head} ({mcnemar_text(pair, tests[0], family)}; {MCNEMAR})"
    per_seed = "; ".join(f"seed {t['seed']}: {mcnemar_text(pair, t, family)}" for t in tests)
    return f"{head} ({MCNEMAR} per seed: {per_seed})"

"""compare's statistics on their own (no training): each checked against scipy or against its
definition, computed independently here."""

from __future__ import annotations

import ast
import itertools
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest, sem, t, ttest_rel

from mnist_cli.comparison.stats import format_p, holm, mcnemar_p, mean_std_ci, paired_t
from mnist_cli.comparison.summary import ranked

COMPARE = Path(__file__).resolve().parents[1] / "mnist_cli" / "comparison"

# (a right only, b right only): ties (the 15 vs 15 case gave p = 0.855), one-sided,
# small and large counts on both sides of the old chi-square switch at 25 discordant.
MCNEMAR_CASES = [(15, 15), (0, 0), (1, 0), (0, 5), (3, 9), (7, 7), (10, 14), (12, 13),
                 (25, 25), (30, 45), (40, 10), (100, 130), (200, 180), (0, 60)]


@pytest.mark.parametrize(("b", "c"), MCNEMAR_CASES)
def test_mcnemar_is_the_exact_binomial_test_for_every_count(b: int, c: int) -> None:
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5, alternative="two-sided").pvalue
    assert mcnemar_p(b, c) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert mcnemar_p(c, b) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_mcnemar_tie_gives_p_one_and_small_counts_match_a_hand_binomial() -> None:
    assert mcnemar_p(15, 15) == 1.0 and mcnemar_p(7, 7) == 1.0
    for b, c in [(3, 9), (0, 5), (10, 14), (2, 30)]:
        n = b + c
        hand = min(1.0, 2 * sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n)
        assert mcnemar_p(b, c) == pytest.approx(hand, rel=1e-12)


def holm_rejects(p: list[float], alpha: float) -> list[bool]:
    """Holm's step-down procedure by its definition: walk the p-values upwards, reject the
    k-th smallest (k from 0) while it is <= alpha / (m - k), stop at the first that is not
    (compared as p * (m - k) <= alpha, so the candidates below hit it without rounding)."""
    m = len(p)
    rejected = [False] * m
    for k, i in enumerate(sorted(range(m), key=lambda j: p[j])):
        if p[i] * (m - k) > alpha:
            break
        rejected[i] = True
    return rejected


def brute_force_adjusted(p: list[float]) -> list[float]:
    """Each hypothesis's adjusted p: the smallest alpha at which the procedure rejects it.
    Rejections only change at alpha = p_i * (m - k), so trying those (and 1) is exhaustive."""
    m = len(p)
    candidates = sorted({min(1.0, pi * (m - k)) for pi in p for k in range(m)} | {1.0})
    return [next(a for a in candidates if holm_rejects(p, a)[i]) for i in range(m)]


def test_holm_worked_example() -> None:
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> kept at 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.2]) == [0.2]
    assert holm([0.6, 0.7]) == [1.0, 1.0]  # capped at 1


@pytest.mark.parametrize("seed", range(8))
def test_holm_matches_the_step_down_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 9))
    p = [float(x) for x in rng.uniform(0, 0.08, size=m) ** rng.uniform(0.5, 2)]
    if seed % 2:
        p[1] = p[0]  # ties
    got = holm(p)
    assert got == pytest.approx(brute_force_adjusted(p), rel=1e-12)
    order = sorted(range(m), key=lambda i: p[i])
    assert all(got[a] <= got[b] for a, b in itertools.pairwise(order))  # monotone
    for alpha in (0.01, 0.05):
        assert [g <= alpha for g in got] == holm_rejects(p, alpha)


P_BOUNDARY = [0.04996, 0.049996, 0.0499951, 0.04999999, 0.04999999999, 0.0495, 0.04949,
              0.05, 0.0500001, 0.05004, 0.0501, 0.001, 0.000999, 0.0123456, 0.5, 0.99996, 1.0]


@pytest.mark.parametrize("p", P_BOUNDARY)
def test_format_p_never_rounds_across_alpha(p: float) -> None:
    text = format_p(p)
    below = re.fullmatch(r"p < ([0-9.]+)", text)
    if below:
        assert p < float(below.group(1))
        return
    shown = float(re.fullmatch(r"p = ([0-9.e-]+)", text).group(1))
    assert (shown < 0.05) == (p < 0.05), text
    assert shown == pytest.approx(p, rel=5e-3)


def test_format_p_examples() -> None:
    assert format_p(0.04996) == "p = 0.04996"
    assert format_p(0.0495) == "p = 0.0495"
    assert format_p(0.05) == "p = 0.05"
    assert format_p(0.0004) == "p < 0.001"


def test_one_value_has_no_spread_and_more_get_a_t_interval() -> None:
    assert mean_std_ci([0.93]) == (0.93, None, None)
    assert mean_std_ci([]) == (None, None, None)
    for values in ([0.91, 0.95], [0.90, 0.92, 0.95], [0.5, 0.52, 0.49, 0.55, 0.51]):
        mean, std, ci = mean_std_ci(values)
        assert mean == pytest.approx(np.mean(values))
        assert std == pytest.approx(np.std(values, ddof=1))
        low, high = t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=sem(values))
        assert ci == pytest.approx([low, high], rel=1e-12)


def test_paired_t_matches_scipy_and_refuses_degenerate_spreads() -> None:
    a, b = [0.91, 0.93, 0.92, 0.95], [0.90, 0.93, 0.89, 0.91]
    res = ttest_rel(a, b)
    assert paired_t(a, b) == pytest.approx((res.statistic, res.pvalue), rel=1e-12)
    assert paired_t(a, a) == (0.0, 1.0)
    assert paired_t([0.5, 0.6, 0.7], [0.4, 0.5, 0.6]) == (None, None)


def test_ranking_uses_validation_not_test_accuracy() -> None:
    entries = [
        {"name": "a", "status": "completed", "val_accuracy": 0.90, "test_accuracy": 0.97},
        {"name": "b", "status": "completed", "val_accuracy": 0.95, "test_accuracy": 0.91},
        {"name": "c", "status": "failed", "val_accuracy": None, "test_accuracy": None},
        {"name": "d", "status": "completed", "val_accuracy": 0.92, "test_accuracy": 0.99},
    ]
    assert [e["name"] for e in ranked(entries, "val_accuracy")] == ["b", "d", "a", "c"]
    assert [e["rank"] for e in entries] == [3, 1, 4, 2]
    assert [e["name"] for e in ranked(entries, "test_accuracy")] == ["d", "a", "b", "c"]


def compare_imports(path: Path) -> set[str]:
    """Every mnist_cli.comparison module `path` imports, at top level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.split(".")[2] for n in names if n.startswith("mnist_cli.comparison.")}
    return found


def test_no_import_cycle_in_compare() -> None:
    modules = {p.stem for p in COMPARE.glob("*.py") if p.stem != "__init__"}
    graph = {m: compare_imports(COMPARE / f"{m}.py") & modules for m in modules}
    assert graph["run"] and graph["report"]  # the walk does see imports

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for nxt in graph[start] - seen:
            if nxt == target or reaches(nxt, target, seen | {nxt}):
                return True
        return False

    cycles = [m for m in modules if reaches(m, m, set())]
    assert cycles == [], f"import cycle through {sorted(cycles)}: {graph}"

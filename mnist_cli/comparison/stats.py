"""The statistics `compare` reports, each computed by scipy.

Accuracy alone cannot say whether a gap is noise. McNemar's exact test looks only at the test
digits where exactly one model is right, the information that actually differs; over 3 or more
seeds a paired t-test on per-seed accuracies asks whether the gap survives retraining. Holm's
step-down correction keeps the chance of any false "significant" at alpha across many tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ALPHA = 0.05
"""Significance level of every pairwise verdict."""


def mcnemar_counts(y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> tuple[int, int]:
    """(a right & b wrong, a wrong & b right)."""
    right_a, right_b = np.asarray(pred_a) == y, np.asarray(pred_b) == y
    return int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))


def mcnemar_p(a_only: int, b_only: int) -> float:
    """Exact McNemar: two-sided binomial test of a_only successes in the discordant pairs at
    p = 0.5. Exact at every count (cheap here); the chi-square's continuity correction
    overshoots on ties (15 vs 15 gave 0.855 instead of 1)."""
    from scipy.stats import binomtest

    n = a_only + b_only
    if n == 0:
        return 1.0
    return float(binomtest(a_only, n, 0.5, alternative="two-sided").pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input order: the i-th smallest p times
    (m - i + 1), made monotone (never below an earlier one) and capped at 1."""
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda k: p_values[k])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def mean_std_ci(values: Sequence[float], level: float = 0.95
                ) -> tuple[float | None, float | None, list[float] | None]:
    """Mean, sample std and t-based confidence interval for the mean. One value has no
    spread: std and interval are None (not 0)."""
    from scipy.stats import t

    if not values:
        return None, None, None
    n, mean = len(values), float(np.mean(values))
    if n < 2:
        return mean, None, None
    std = float(np.std(values, ddof=1))
    half = float(t.ppf(0.5 + level / 2, df=n - 1)) * std / math.sqrt(n)
    return mean, std, [mean - half, mean + half]


def paired_t(a: Sequence[float], b: Sequence[float]) -> tuple[float | None, float | None]:
    """(t, two-sided p) of scipy's paired t-test on per-seed accuracies. Identical values give
    (0, 1); differences that are all the same non-zero amount have no spread, so the test is
    undefined: (None, None)."""
    from scipy.stats import ttest_rel

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if not d.any():
        return 0.0, 1.0
    if np.allclose(d, d[0], rtol=0.0, atol=1e-12):
        return None, None
    result = ttest_rel(a, b)
    return float(result.statistic), float(result.pvalue)


def format_p(p: float, alpha: float = ALPHA) -> str:
    """'p = 0.0312' (3 significant digits, more where rounding would cross alpha: 0.04996 is
    never 'p = 0.05'); 'p < 0.001' below that."""
    if p < 0.001:
        return "p < 0.001"
    for digits in range(3, 8):
        text = f"{p:.{digits}g}"
        if (float(text) < alpha) == (p < alpha):
            return f"p = {text}"
    return f"p < {alpha:g}"

"""McNemar's test on two classifiers' predictions for the same test set.

Accuracy alone cannot say whether a gap is noise; McNemar looks only at the test digits
where exactly one model is right, which is the information that actually differs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# Below this many discordant digits the chi-square approximation is poor: use the exact test.
EXACT_BELOW = 25


@dataclass
class McNemar:
    """Discordant counts and the test's verdict for variants `a` vs `b`."""

    a: str
    b: str
    a_only: int
    """Test digits `a` gets right and `b` gets wrong."""
    b_only: int
    """Test digits `b` gets right and `a` gets wrong."""
    n_test: int
    method: str
    statistic: float | None
    p_value: float

    @property
    def discordant(self) -> int:
        return self.a_only + self.b_only

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "discordant": self.discordant, "sentence": self.sentence()}

    def sentence(self) -> str:
        """One plain sentence a reader can act on."""
        if self.discordant == 0:
            return (f"{self.a} and {self.b} are right on exactly the same test digits (on none "
                    f"of the {self.n_test} is only one of them right); no difference to test")
        if self.a_only == self.b_only:
            return (f"{self.a} and {self.b} tie: each is right on {self.a_only} of the "
                    f"{self.discordant} test digits where exactly one of them is right; "
                    f"{format_p(self.p_value)}")
        win, lose = (self.a, self.b) if self.a_only > self.b_only else (self.b, self.a)
        wins, losses = max(self.a_only, self.b_only), min(self.a_only, self.b_only)
        return (f"{win} beats {lose} on {wins} of the {self.discordant} test digits where "
                f"exactly one of them is right ({lose} wins the other {losses}; "
                f"{self.n_test} test digits in all); {format_p(self.p_value)}")


def format_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3g}"


def mcnemar_counts(y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> tuple[int, int]:
    """(a right & b wrong, a wrong & b right)."""
    right_a, right_b = np.asarray(pred_a) == y, np.asarray(pred_b) == y
    return int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))


def mcnemar_p(a_only: int, b_only: int) -> tuple[str, float | None, float]:
    """(method, statistic, two-sided p): exact binomial when few disagree, else chi-square
    with Edwards' continuity correction."""
    from scipy.stats import binomtest, chi2

    n = a_only + b_only
    if n == 0:
        return "none", None, 1.0
    if n < EXACT_BELOW:
        return "exact binomial", None, float(binomtest(a_only, n, 0.5).pvalue)
    stat = (abs(a_only - b_only) - 1) ** 2 / n
    return "chi-square, continuity-corrected", float(stat), float(chi2.sf(stat, df=1))


def mcnemar(a: str, b: str, y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> McNemar:
    """McNemar's test of `a` vs `b` on the same labelled test set."""
    a_only, b_only = mcnemar_counts(y, pred_a, pred_b)
    method, stat, p = mcnemar_p(a_only, b_only)
    return McNemar(a, b, a_only, b_only, int(len(y)), method, stat, p)


def intervals_overlap(mean_a: float, std_a: float, mean_b: float, std_b: float) -> bool:
    """Whether [mean - std, mean + std] of the two accuracies overlap."""
    return max(mean_a - std_a, mean_b - std_b) <= min(mean_a + std_a, mean_b + std_b)

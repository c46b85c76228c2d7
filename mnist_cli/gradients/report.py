"""Gradient-check results and Ng's verdict scale (the rich tables are in `render`).

Kept free of TensorFlow so the CLI can render or serialise a result without importing it.
A figure is judged only when it can mean something (see `noise_floor`); when no figure at
all could be judged the verdict is "inconclusive", never "pass".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

PASS_BELOW = 1e-7
"""Relative difference below this: the gradient is right (Ng's scale)."""
WARN_BELOW = 1e-5
"""Below this but not below PASS_BELOW: suspicious; at or above it: wrong."""
NOISE_FACTOR = 100.0
"""A central difference carries rounding error ~ u*|loss|/eps (u = 2.2e-16; measured ~3e-11
at eps 1e-5). A variable whose every difference is under NOISE_FACTOR times that has tiny
gradients (softmax-saturated or dead units): its own ratio is noise, so it is reported but
left to the overall figure."""


def noise_floor(loss: float, epsilon: float) -> float:
    """Absolute difference a correct gradient can show from float64 rounding alone."""
    return NOISE_FACTOR * 2.2e-16 * max(abs(loss), 1.0) / epsilon


VERDICT_ORDER = ("pass", "warning", "inconclusive", "fail")


def verdict_for(rel_diff: float) -> str:
    """'pass' / 'warning' / 'fail' for one relative difference (NaN fails)."""
    if not np.isfinite(rel_diff) or rel_diff >= WARN_BELOW:
        return "fail"
    return "pass" if rel_diff < PASS_BELOW else "warning"


def worst(verdicts: list[str]) -> str:
    """The most severe of several verdicts ('inconclusive' for none: nothing was judged)."""
    return max(verdicts, key=VERDICT_ORDER.index, default="inconclusive")


def relative_difference(approx: np.ndarray, calc: np.ndarray) -> float:
    """||approx - calc|| / (||approx|| + ||calc||); 0 when both are exactly zero."""
    denom = float(np.linalg.norm(approx) + np.linalg.norm(calc))
    num = float(np.linalg.norm(approx - calc))
    return 0.0 if denom == 0.0 else num / denom


def plain(record: Any) -> dict[str, Any]:
    """A check record in plain JSON types; NaN (nothing kink-free to compare) becomes None."""
    return {k: None if isinstance(v, float) and not np.isfinite(v) else v
            for k, v in asdict(record).items()}


@dataclass
class VariableCheck:
    """One variable compared against one reference gradient."""

    name: str
    shape: list[int]
    size: int
    checked: int
    """Entries compared (kink-straddling ones included)."""
    rel_diff: float
    """Relative L2 difference over the checked entries that straddle no kink."""
    worst_index: list[int] | None
    """Multi-index of the kink-free entry with the largest absolute difference."""
    worst_abs_diff: float
    kinks: int = 0
    """Checked entries whose finite difference straddled a ReLU / max-pool kink."""
    kink_rel_diff: float | None = None
    """Relative difference over the kink entries alone (reported, not judged)."""
    kink_max_abs_diff: float | None = None
    reference: str = "finite-difference"
    """What the computed gradient was compared with: finite-difference or gradient-tape (the
    backend's autodiff, which the result's settings name: GradientTape or jax.value_and_grad)."""
    judged: bool = True
    """False when the gradient is too small for its own ratio to mean anything."""
    verdict: str = "pass"

    def to_dict(self) -> dict[str, Any]:
        return plain(self)


@dataclass
class DirectionCheck:
    """Autodiff vs finite differences along random unit directions over some variables."""

    name: str
    """'all variables' or one variable's name."""
    size: int
    """Entries the directions span: every one of them is involved in every direction."""
    directions: int
    judged_directions: int
    """Directions with at least one sample that straddles no kink."""
    dropped_samples: int
    """Sample evaluations left out (over all directions) because they straddled a kink."""
    rel_diff: float
    """Relative L2 difference between the k finite differences and the k autodiff values."""
    worst_abs_diff: float
    judged: bool = True
    verdict: str = "pass"

    def to_dict(self) -> dict[str, Any]:
        return plain(self)


@dataclass
class GradcheckResult:
    """Everything a gradient check found, plus the settings that produced it."""

    model: str
    variables: list[VariableCheck]
    overall_rel_diff: float
    """Relative difference over all kink-free checked entries of every variable together."""
    verdict: str
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    overall_judged: bool = True
    """False when no checked entry was kink-free and above the noise floor."""
    directional: list[DirectionCheck] = field(default_factory=list)
    directional_seconds: float = 0.0
    reason: str | None = None
    """Why the verdict is 'inconclusive'."""

    @property
    def exit_code(self) -> int:
        """1 on fail or inconclusive, else 0 (warnings do not fail a script)."""
        return 1 if self.verdict in ("fail", "inconclusive") else 0

    @property
    def entry_verdict(self) -> str:
        """The sampled per-entry check alone."""
        return judged_verdict([(self.overall_rel_diff, self.overall_judged)]
                              + [(v.rel_diff, v.judged) for v in self.variables])

    @property
    def directional_verdict(self) -> str | None:
        """The directional check alone (None when it did not run)."""
        if not self.directional:
            return None
        return judged_verdict([(d.rel_diff, d.judged) for d in self.directional])

    def finalise(self) -> None:
        """Set the verdict from every judged figure of both checks; explain 'inconclusive'."""
        parts = [self.entry_verdict] + ([self.directional_verdict] if self.directional else [])
        judged = [p for p in parts if p != "inconclusive"]
        self.verdict = worst(judged)
        if self.verdict == "inconclusive":
            self.reason = ("nothing could be judged: every checked entry and direction either "
                           "straddles a kink or differs only by float64 rounding noise; try "
                           "another --seed, a larger --batch or a smaller --epsilon")

    @property
    def total_kinks(self) -> int:
        return sum(v.kinks for v in self.variables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "verdict": self.verdict,
            "reason": self.reason,
            "overall_rel_diff": self.overall_rel_diff,
            "overall_judged": self.overall_judged,
            "entry_verdict": self.entry_verdict,
            "directional_verdict": self.directional_verdict,
            "kinks": self.total_kinks,
            "thresholds": {"pass_below": PASS_BELOW, "warning_below": WARN_BELOW},
            "settings": dict(self.settings),
            "seconds": self.seconds,
            "variables": [v.to_dict() for v in self.variables],
            "directional": [d.to_dict() for d in self.directional],
            "directional_seconds": self.directional_seconds,
            "notes": list(self.notes),
        }


def judged_verdict(figures: list[tuple[float, bool]]) -> str:
    """Worst verdict of the judged (rel diff, judged) figures; 'inconclusive' if none is."""
    return worst([verdict_for(rel) for rel, judged in figures if judged])


def judge(rows: list[VariableCheck], overall: float, overall_judged: bool = True) -> str:
    """Overall verdict: the overall figure and every judged variable must pass."""
    for row in rows:
        row.verdict = verdict_for(row.rel_diff) if row.judged else "pass"
    return judged_verdict([(overall, overall_judged)] + [(r.rel_diff, r.judged) for r in rows])


def is_judged(rel_diff: float, worst_abs_diff: float, floor: float, *values: np.ndarray) -> bool:
    """A figure means something if its largest difference clears the noise floor (a real
    error), or if it agrees to PASS_BELOW anyway; never when both sides are exactly zero
    (dead units, zero inputs: nothing was tested)."""
    signal = any(np.any(np.asarray(v) != 0) for v in values)
    return bool(np.isfinite(rel_diff) and signal
                and (worst_abs_diff >= floor or rel_diff < PASS_BELOW))


def direction_row(name: str, size: int, fd: np.ndarray, ad: np.ndarray, dropped: np.ndarray,
                  samples: int, floor: float) -> DirectionCheck:
    """Compare finite differences with autodiff over the directions that kept a sample."""
    keep = dropped < samples
    diff = np.abs(fd - ad)[keep]
    rel = relative_difference(fd[keep], ad[keep]) if keep.any() else float("nan")
    worst_abs = float(diff.max()) if keep.any() else 0.0
    row = DirectionCheck(name, int(size), len(fd), int(keep.sum()), int(dropped.sum()), rel,
                         worst_abs)
    row.judged = is_judged(rel, worst_abs, floor, fd[keep], ad[keep])
    row.verdict = verdict_for(rel) if row.judged else "pass"
    return row


Check = tuple[str, tuple[int, ...], np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""(name, shape, flat entries, computed gradient, reference gradient, kink counts)."""


def variable_row(check: Check, reference: str,
                 floor: float) -> tuple[VariableCheck, np.ndarray]:
    """One table row; also returns the kink-free mask used for the overall figure."""
    name, shape, entries, calc, approx, kinks = check
    clean = np.asarray(kinks) == 0
    diff = np.abs(approx - calc)
    row = VariableCheck(name, list(shape), int(np.prod(shape)), len(entries),
                        relative_difference(approx[clean], calc[clean]), None, 0.0,
                        int((~clean).sum()), reference=reference)
    if clean.any():
        pos = int(np.argmax(np.where(clean, diff, -1.0)))
        row.worst_index = [int(i) for i in np.unravel_index(entries[pos], shape)]
        row.worst_abs_diff = float(diff[pos])
        row.judged = is_judged(row.rel_diff, row.worst_abs_diff, floor, approx[clean],
                               calc[clean])
    else:
        row.rel_diff, row.judged = float("nan"), False
    if row.kinks:
        row.kink_rel_diff = relative_difference(approx[~clean], calc[~clean])
        row.kink_max_abs_diff = float(diff[~clean].max())
    return row, clean


def compare_rows(checks: list[Check], reference: str, model: str = "model",
                 floor: float = 0.0) -> GradcheckResult:
    """Rows for every variable, the overall kink-free figure and the verdict; differences
    under `floor` (see `noise_floor`) cannot fail a variable on their own."""
    rows, approx_all, calc_all = [], [], []
    for check in checks:
        row, clean = variable_row(check, reference, floor)
        rows.append(row)
        approx_all.append(check[4][clean])
        calc_all.append(check[3][clean])
    approx, calc = np.concatenate(approx_all), np.concatenate(calc_all)
    overall = relative_difference(approx, calc) if len(approx) else float("nan")
    worst_abs = float(np.abs(approx - calc).max()) if len(approx) else 0.0
    overall_judged = is_judged(overall, worst_abs, floor, approx, calc)
    notes = [f"{r.name}: tiny or exactly zero gradient, differences within float64 rounding "
             f"noise (< {floor:.1e}); not judged on its own" if r.checked > r.kinks
             else f"{r.name}: all {r.checked} checked entries straddle a kink, none judged "
             "(e.g. a zero-initialised bias over all-zero inputs sits exactly on a ReLU kink)"
             for r in rows if not r.judged]
    return GradcheckResult(model, rows, overall, judge(rows, overall, overall_judged),
                           notes=notes, overall_judged=overall_judged)

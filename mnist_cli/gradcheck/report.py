"""Gradient-check results, Ng's verdict scale and the rich table.

Kept free of TensorFlow so the CLI can render or serialise a result without importing it.
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
VERDICT_ORDER = ("pass", "warning", "fail")


def verdict_for(rel_diff: float) -> str:
    """'pass' / 'warning' / 'fail' for one relative difference (NaN fails)."""
    if not np.isfinite(rel_diff) or rel_diff >= WARN_BELOW:
        return "fail"
    return "pass" if rel_diff < PASS_BELOW else "warning"


def worst(verdicts: list[str]) -> str:
    """The most severe of several verdicts ('pass' for none)."""
    return max(verdicts, key=VERDICT_ORDER.index, default="pass")


def relative_difference(approx: np.ndarray, calc: np.ndarray) -> float:
    """||approx - calc|| / (||approx|| + ||calc||); 0 when both are exactly zero."""
    denom = float(np.linalg.norm(approx) + np.linalg.norm(calc))
    num = float(np.linalg.norm(approx - calc))
    return 0.0 if denom == 0.0 else num / denom


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
    """What the computed gradient was compared with: finite-difference or gradient-tape."""
    judged: bool = True
    """False when the gradient is too small for its own ratio to mean anything."""
    verdict: str = "pass"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; NaN (nothing kink-free to compare) becomes None."""
        return {k: None if isinstance(v, float) and not np.isfinite(v) else v
                for k, v in asdict(self).items()}


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

    @property
    def exit_code(self) -> int:
        """1 on fail, else 0 (warnings do not fail a script)."""
        return 1 if self.verdict == "fail" else 0

    @property
    def total_kinks(self) -> int:
        return sum(v.kinks for v in self.variables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "verdict": self.verdict,
            "overall_rel_diff": self.overall_rel_diff,
            "kinks": self.total_kinks,
            "thresholds": {"pass_below": PASS_BELOW, "warning_below": WARN_BELOW},
            "settings": dict(self.settings),
            "seconds": self.seconds,
            "variables": [v.to_dict() for v in self.variables],
            "notes": list(self.notes),
        }


def judge(rows: list[VariableCheck], overall: float) -> str:
    """Overall verdict: the overall figure and every judged variable must pass."""
    for row in rows:
        row.verdict = verdict_for(row.rel_diff) if row.judged else "pass"
    return worst([verdict_for(overall)] + [r.verdict for r in rows])


_STYLE = {"pass": "green", "warning": "yellow", "fail": "bold red"}


def _fmt(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.1e}"


_REF = {"finite-difference": "FD", "gradient-tape": "tape"}


def render(result: GradcheckResult) -> Any:
    """A rich Table: one row per variable (and reference), then the overall figure.

    Kept narrow enough for an 80-column terminal: FD = finite differences, tape = GradientTape.
    """
    from rich.table import Table

    eps = result.settings.get("epsilon")
    title = f"gradcheck {result.model}: [{_STYLE[result.verdict]}]{result.verdict}[/]"
    table = Table(title=title, caption=f"eps={eps}; rel diff = relative L2 difference; "
                  f"pass < {PASS_BELOW:g}, warning < {WARN_BELOW:g}; FD = finite differences; "
                  f"{result.seconds:.1f}s")
    refs = {_REF.get(v.reference, v.reference) for v in result.variables}
    show_ref = len(refs) > 1
    cols = ["variable", *(["vs"] if show_ref else []), "shape", "checked", "rel diff", "worst",
            "kinks", "kink diff", "verdict"]
    for col in cols:
        table.add_column(col, justify="left" if col in ("variable", "vs") else "right",
                         no_wrap=True, min_width=12 if col == "variable" else None)
    for v in result.variables:
        verdict = v.verdict if v.judged else "noise"
        worst = "-" if v.worst_index is None else f"{v.worst_abs_diff:.0e}"
        ref = [_REF.get(v.reference, v.reference)] if show_ref else []
        table.add_row(v.name, *ref, "x".join(map(str, v.shape)) or "scalar",
                      f"{v.checked}/{v.size}", _fmt(v.rel_diff), worst, str(v.kinks),
                      _fmt(v.kink_rel_diff), f"[{_STYLE.get(v.verdict, '')}]{verdict}[/]")
    table.add_section()
    checked = sum(v.checked for v in result.variables)
    table.add_row("overall", *([""] if show_ref else []), "", str(checked),
                  _fmt(result.overall_rel_diff), "", str(result.total_kinks), "",
                  f"[{_STYLE[result.verdict]}]{result.verdict}[/]")
    return table


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
        row.judged = bool(row.worst_abs_diff >= floor or row.rel_diff < PASS_BELOW)
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
    overall = relative_difference(np.concatenate(approx_all), np.concatenate(calc_all))
    notes = [f"{r.name}: tiny gradient, differences within float64 rounding noise "
             f"(< {floor:.1e}); judged by the overall figure" if r.checked > r.kinks
             else f"{r.name}: all {r.checked} checked entries straddle a kink, none judged "
             "(e.g. a zero-initialised bias over all-zero inputs sits exactly on a ReLU kink)"
             for r in rows if not r.judged]
    return GradcheckResult(model, rows, overall, judge(rows, overall), notes=notes)

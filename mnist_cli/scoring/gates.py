"""Quality gates for CI: `--fail-under METRIC=VALUE` turns a too-low score into exit 1.

Gates are parsed before any work starts (a typo in a metric name is exit 2 listing the valid
ones, not a wasted training run) and checked after every artifact is written, so a failed
gate still leaves the whole run directory to inspect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mnist_cli.errors import RunFailed, UsageError

# metric name -> where its value lives in the command's result (dotted path)
TRAIN_METRICS = {"test_accuracy": "test_accuracy", "balanced_accuracy": "balanced_accuracy",
                 "val_accuracy": "final.val_accuracy"}
EVALUATE_METRICS = {"test_accuracy": "accuracy", "accuracy": "accuracy",
                    "balanced_accuracy": "balanced_accuracy",
                    "macro_f1": "averages.macro avg.f1-score"}
COMPARE_METRICS = {"test_accuracy": "test_accuracy", "balanced_accuracy": "balanced_accuracy"}


@dataclass(frozen=True)
class Gate:
    """`metric` must be at least `threshold`."""

    metric: str
    threshold: float
    path: str


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    value: float | None  # None: the run produced no such value (it failed)

    @property
    def passed(self) -> bool:
        return self.value is not None and not math.isnan(self.value) and (
            self.value >= self.gate.threshold)

    def shown_value(self) -> str:
        """The value with enough decimals to be visibly below (or at/above) the threshold."""
        return "-" if self.value is None else apart(self.value, self.gate.threshold)

    def line(self) -> str:
        g = self.gate
        got = ("no value (the run did not produce one)" if self.value is None
               else self.shown_value())
        verdict = "passed" if self.passed else "FAILED"
        return f"gate {g.metric} >= {shown_threshold(g.threshold)} {verdict}: got {got}"


def shown_threshold(threshold: float) -> str:
    """The threshold as the user wrote it: `%g` unless that drops digits (0.9471234)."""
    short = f"{threshold:g}"
    return short if float(short) == threshold else repr(threshold)


def apart(value: float, threshold: float, least: int = 4) -> str:
    """`value` with the fewest decimals (at least `least`) at which it and `threshold` print
    differently, so a failed 0.94698 shows as 0.94698 against 0.947, not as 0.9470. Rounding
    is monotonic, so the printed order then matches the true order; an equal value (or one
    that differs only beyond 17 decimals) prints with `least` decimals (or in full)."""
    if not math.isfinite(value):
        return f"{value:.{least}f}"
    for decimals in range(least, 18):
        text = f"{value:.{decimals}f}"
        if text != f"{threshold:.{decimals}f}":
            return text
    return f"{value:.{least}f}" if value == threshold else repr(value)


class GatesFailed(RunFailed):
    """One or more gates failed (exit 1); `lines` holds one sentence per failed gate."""

    def __init__(self, failed: list[GateResult]) -> None:
        self.lines = [r.line() for r in failed]
        super().__init__("\n".join(self.lines))


def parse_gates(specs: list[str] | None, metrics: dict[str, str]) -> list[Gate]:
    """`["test_accuracy=0.9", ...]` -> gates; unknown metrics and bad values are UsageErrors."""
    gates = []
    valid = ", ".join(metrics)
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--fail-under {spec!r}: write METRIC=VALUE, e.g. "
                             f"--fail-under test_accuracy=0.9 (metrics: {valid})")
        if name not in metrics:
            raise UsageError(f"--fail-under {spec!r}: unknown metric {name!r}; choose one "
                             f"of {valid}")
        try:
            threshold = float(value)
        except ValueError:
            raise UsageError(f"--fail-under {spec!r}: {value!r} is not a number; e.g. "
                             f"--fail-under {name}=0.9") from None
        if not math.isfinite(threshold):
            raise UsageError(f"--fail-under {spec!r}: the threshold must be a finite number")
        gates.append(Gate(name, threshold, metrics[name]))
    return gates


def lookup(result: dict[str, Any], path: str) -> float | None:
    """The value at a dotted `path` in a result dict (None if absent)."""
    value: Any = result
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def evaluate_gates(gates: list[Gate], result: dict[str, Any]) -> list[GateResult]:
    return [GateResult(g, lookup(result, g.path)) for g in gates]


def enforce(results: list[GateResult]) -> None:
    """Raise `GatesFailed` naming every failed gate (call once everything is written)."""
    failed = [r for r in results if not r.passed]
    if failed:
        raise GatesFailed(failed)

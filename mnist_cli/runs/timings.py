"""Where a run's wall time goes: seconds per phase, recorded in metrics.json's `timings`.

Phases add up as the process runs (`phase` around a piece of work; nested phases count only
once, in the innermost) and a run takes them with `take`, so the backend import, paid once
per process, shows in the first run only. `train` is the training loop with its callbacks
except TensorBoard's event writing, which is `tensorboard`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

PHASES = ("imports", "data", "build", "train", "evaluate", "save", "plots", "tensorboard")
_seconds: dict[str, float] = {}
_nested: list[float] = []  # per open phase: seconds its nested phases took


def add(name: str, seconds: float) -> None:
    _seconds[name] = _seconds.get(name, 0.0) + seconds


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Add the seconds the `with` body takes to `name` (also when it raises), less those of
    phases nested in it: an import inside `build` counts as `imports` only, so the phases
    add up to the wall time they cover."""
    start = time.perf_counter()
    _nested.append(0.0)
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        add(name, elapsed - _nested.pop())
        if _nested:
            _nested[-1] += elapsed


def take() -> dict[str, float]:
    """Every phase's seconds so far (0 for those that did not run), then start afresh."""
    taken = {name: round(_seconds.get(name, 0.0), 3) for name in PHASES}
    _seconds.clear()
    return taken


def timings_line(timings: dict[str, float]) -> str:
    """'timings: imports 5.91 s, data 0.21 s, ...' for `--verbose`."""
    return "timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())

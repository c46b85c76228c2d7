"""Which session tested a best trial, recorded in the study itself (user attribute
`tested_trial_<number>`), so that sessions sharing one study from several processes or
machines, each with its own run directory, score the test split once per best config.

The first session to finish with a best trial claims it, trains and tests it, and records
the test metrics and where that run is. A later session whose best is the same trial uses
the record and says whose it is; one that finds the claim but no metrics yet waits for them
(up to the claim's deadline: a claimer that died leaves the test to the next session).
Optuna has no compare-and-set on study attributes, so two sessions that finish within the
same second may both test: the same seed and split give them the same result.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

POLL_S = 0.5
MIN_CLAIM_S = 120.0


def key(number: int) -> str:
    return f"tested_trial_{number}"


def where(run_dir: Path) -> str:
    """`host:path` of a tested run, as other machines' sessions name it."""
    return f"{socket.gethostname()}:{Path(run_dir).resolve()}"


def wait_for_record(study: Any, number: int) -> dict[str, Any] | None:
    """The record of a test of trial `number` by another session, waiting while one is
    claimed and not finished; None when nobody tested it (or its claimer gave up)."""
    while True:
        record = study.user_attrs.get(key(number))
        if not record or record.get("metrics") or time.time() > record.get("until", 0):
            return record if record and record.get("metrics") else None
        time.sleep(POLL_S)


def claim(study: Any, number: int, target: Path, trial_seconds: float) -> None:
    until = time.time() + max(MIN_CLAIM_S, 3 * trial_seconds)
    study.set_user_attr(key(number), {"by": where(target), "until": until})


def release(study: Any, number: int) -> None:
    """A test that failed or was interrupted leaves the trial to the next session."""
    study.set_user_attr(key(number), None)


def record(study: Any, number: int, target: Path, metrics: dict[str, Any]) -> None:
    """The test's metrics as metrics.json has them (plain JSON: the study stores JSON)."""
    from mnist_cli.runs.artifacts import _jsonable

    plain = json.loads(json.dumps(metrics, default=_jsonable))
    study.set_user_attr(key(number), {"by": where(target), "metrics": plain})

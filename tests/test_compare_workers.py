"""`compare --workers N`: sub-runs in spawned processes, bit-identical to `--workers 1`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mnist_cli import api
from mnist_cli.errors import UsageError

TIMING = {"train_seconds", "eval_seconds", "samples_per_second", "timings", "run_dir",
          "compare_dir", "files"}
"""What may differ between two identical runs: wall times and where they were written."""


def without_timing(value: object) -> object:
    """`value` with every timing and path key dropped, at any depth."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items()
                if k not in TIMING and not k.startswith(("train_seconds", "samples_per"))}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def weights(run_dir: Path) -> list[np.ndarray]:
    from mnist_cli.backend import import_keras

    return import_keras().models.load_model(run_dir / "model.keras").get_weights()


@pytest.mark.slow
def test_two_workers_are_bit_identical_to_one(tmp_path: Path) -> None:
    runs = {n: api.compare(data="digits", epochs=2, seed=4, run_dir=tmp_path / f"w{n}",
                           workers=n, command=["compare"]) for n in (1, 2)}
    one, two = runs[1], runs[2]
    assert without_timing(one.summary) == without_timing(two.summary)  # table, statistics
    assert one.sentences == two.sentences
    subs = sorted(p.name for p in (tmp_path / "w1").iterdir() if p.is_dir())
    assert subs == ["relu", "softmax"]
    for sub in subs:
        a, b = tmp_path / "w1" / sub, tmp_path / "w2" / sub
        for x, y in zip(weights(a), weights(b), strict=True):
            assert x.dtype == y.dtype and np.array_equal(x, y)  # exactly, not approximately
        ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
        assert without_timing(ma) == without_timing(mb)
        assert (a / "history.csv").read_text() == (b / "history.csv").read_text()
        assert not (b / ".lock").exists()


def test_workers_refuse_what_processes_cannot_share(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--workers 2 .* multi-worker"):
        api.compare(data="digits", workers=2, strategy="multi-worker",
                    worker=["127.0.0.1:1", "127.0.0.1:2"], task_index=0,
                    run_dir=tmp_path / "c")
    with pytest.raises(UsageError, match="--workers must be >= 1"):
        api.compare(data="digits", workers=0, run_dir=tmp_path / "c")
    assert not (tmp_path / "c").exists()

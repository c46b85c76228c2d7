"""The peer bench (benchmarks/bench_peers.py): its data, its reading of mnist-cli's epoch
lines, and a quick end-to-end run of every contender this machine can run.

Never reads ../shared: MNIST_BENCH_DATA points at a missing folder, so the bench falls back
to the bundled digits upscaled to 28x28.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))

import bench_data  # noqa: E402
import mnist_cli_train  # noqa: E402
import peerlib  # noqa: E402
import roster  # noqa: E402


@pytest.fixture
def no_mnist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bench_data, "IMAGES", tmp_path / "absent-images.gz")
    monkeypatch.setattr(bench_data, "LABELS", tmp_path / "absent-labels.gz")


def test_fallback_npz_is_mnist_shaped_and_tiles_with_shifted_copies(
        no_mnist: None, tmp_path: Path) -> None:
    info = bench_data.write_npz(tmp_path / "d.npz", 3000, 100)
    with np.load(tmp_path / "d.npz") as z:
        x, y, xt, yt = z["x_train"], z["y_train"], z["x_test"], z["y_test"]
    assert info["tiled"] and info["train"] == 3000 and info["test"] == 100
    assert x.shape == (3000, 28, 28) and x.dtype == np.uint8 and xt.shape == (100, 28, 28)
    assert x.max() == 255 and set(np.unique(y)) == set(range(10)) and len(yt) == 100
    n = 1437  # the bundled digits' 80% training share
    assert np.array_equal(x[n:2 * n].sum((1, 2)) > 0, x[:n].sum((1, 2)) > 0)  # same digits
    assert np.array_equal(y[n:2 * n], y[:n])
    assert not np.array_equal(x[n:2 * n], x[:n])  # ... moved, not repeated byte for byte


def test_shift_moves_each_image_within_two_pixels() -> None:
    img = np.zeros((1, 28, 28), np.uint8)
    img[0, 14, 14] = 255
    moved = bench_data.shifted(np.repeat(img, 50, 0), np.random.default_rng(0))
    ys, xs = np.nonzero(moved.reshape(50, -1) == 255)[1] // 28, np.nonzero(moved)[2]
    assert len(ys) == 50 and set(np.abs(ys - 14)) <= {0, 1, 2} and set(np.abs(xs - 14)) <= {
        0, 1, 2}
    assert len(set(zip(ys.tolist(), xs.tolist(), strict=True))) > 5


def test_epoch_seconds_read_the_cli_progress_line() -> None:
    """The parser reads the line mnist-cli's own formatter writes (labelled or not)."""
    from mnist_cli.display import epoch_line

    lines = [epoch_line(1, 3, {"loss": 0.5, "accuracy": 0.8}, 2.345678, 8000),
             epoch_line(2, 3, {"loss": 0.4}, 0.0812345, 8000, label="mlp_relu"),
             epoch_line(3, 3, {}, 0.31)]  # no samples/s: the printed 0.1 s resolution
    got = mnist_cli_train.epoch_seconds("noise\n" + "\n".join(lines) + "\nrun dir: x\n", 8000)
    assert got[:2] == pytest.approx([2.345678, 0.0812345], rel=1e-3)
    assert got[2] == pytest.approx(0.3) and len(got) == 3


def test_steady_rate_is_the_median_after_the_first_epoch() -> None:
    args = peerlib.parser("t").parse_args(["--data", "x.npz"])
    rec = peerlib.summary("c", args, 1000, [5.0, 0.1, 0.2, 0.5], 0.9)
    assert rec["steady_samples_per_second"] == pytest.approx(5000.0)
    assert rec["first_epoch_seconds"] == 5.0 and rec["wall_seconds"] > 0
    assert set(peerlib.KEYS) <= set(rec)


@pytest.mark.slow
@pytest.mark.extended
def test_quick_bench_runs_every_available_contender(tmp_path: Path) -> None:
    """`--quick` on the CNN workload (every contender has a CNN, so each script runs once;
    two at a time to keep this short): same keys, sane numbers, plausible accuracy; a
    contender is only ever skipped for a missing framework or a missing mnist-cli backend."""
    out = tmp_path / "results.json"
    env = {**os.environ, "MNIST_BENCH_DATA": str(tmp_path / "no-mnist"),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_peers.py"), "--quick",
         "--workloads", "cnn", "--jobs", "2", "--timeout", "240", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    peers = json.loads(out.read_text(encoding="utf-8"))["peers"]
    assert peers["source"].startswith("sklearn digits") and peers["quick"]
    runs, skipped = peers["workloads"]["cnn"]["repeats"], peers["skipped"]
    cnn = {c.name for c in roster.CONTENDERS if "cnn" in c.models}
    assert set(runs) | set(skipped) == cnn and not set(runs) & set(skipped)
    assert {"mnist_cli", "keras_fit_tf"} <= set(runs)
    for name, note in skipped.items():
        c = next(c for c in roster.CONTENDERS if c.name == name)
        if note.startswith("not installed"):
            assert any(importlib.util.find_spec(m) is None for m in c.needs), name
        else:
            assert name == "mnist_cli_jax" and "no jax backend" in note
    for name, (record,) in runs.items():
        assert "error" not in record, (name, record)
        assert set(peerlib.KEYS) <= set(record) and record["contender"] == name
        assert all(record[k] is not None for k in peerlib.KEYS), (name, record)
        assert record["epochs"] == 2 and record["train_images"] == 512
        assert len(record["epoch_seconds"]) == 2 and record["steady_samples_per_second"] > 0
        assert 0 < record["first_epoch_seconds"] < record["wall_seconds"]
        assert 0.4 <= record["test_accuracy"] <= 1.0, (name, record["test_accuracy"])

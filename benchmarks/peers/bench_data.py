"""The one dataset every contender of the peer bench reads: an .npz written once per run.

Source, best first: the real MNIST test set in ../shared/data/mnist (or $MNIST_BENCH_DATA),
10,000 digits, the first 8,000 to train and the last 2,000 to test; otherwise sklearn's
bundled 8x8 digits upscaled to 28x28 (3x nearest neighbour, 2-pixel border, 0-16 -> 0-255),
80/20. A workload asking for more training images than the source has (60k) gets the training
digits tiled, each copy after the first shifted by a seeded random offset of up to 2 pixels
each way, so later copies are not byte-identical repeats. The test digits are never tiled.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: the IDX reader
from contenders import IMAGES, LABELS, read_idx  # noqa: E402
from contenders import N_TRAIN as MNIST_TRAIN  # noqa: E402

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def has_mnist() -> bool:
    return IMAGES.exists() and LABELS.exists()


def source_name() -> str:
    if has_mnist():
        return "MNIST t10k: 8,000 train / 2,000 test"
    return "sklearn digits upscaled to 28x28: 1,437 train / 360 test"


def base_arrays() -> Arrays:
    """uint8 (N, 28, 28) images and int64 labels: train, train labels, test, test labels."""
    if has_mnist():
        x, y = read_idx(IMAGES), read_idx(LABELS).astype(np.int64)
        return x[:MNIST_TRAIN], y[:MNIST_TRAIN], x[MNIST_TRAIN:], y[MNIST_TRAIN:]
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.kron(d.images, np.ones((3, 3))) * (255 / 16)
    x = np.pad(x, ((0, 0), (2, 2), (2, 2))).round().astype(np.uint8)
    cut = int(len(x) * 0.8)
    return x[:cut], d.target[:cut].astype(np.int64), x[cut:], d.target[cut:].astype(np.int64)


def shifted(x: np.ndarray, rng: np.random.Generator, limit: int = 2) -> np.ndarray:
    """Each image moved by its own random (dy, dx) in [-limit, limit], zero fill."""
    n, h, w = x.shape
    padded = np.pad(x, ((0, 0), (limit, limit), (limit, limit)))
    dy, dx = rng.integers(0, 2 * limit + 1, size=(2, n))
    out = np.empty_like(x)
    for oy in range(2 * limit + 1):
        for ox in range(2 * limit + 1):
            idx = np.flatnonzero((dy == oy) & (dx == ox))
            out[idx] = padded[idx, oy:oy + h, ox:ox + w]
    return out


def sized(x: np.ndarray, y: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The first `n` images, or the set tiled to `n` with shifted copies after the first."""
    if n <= len(x):
        return x[:n], y[:n]
    rng = np.random.default_rng(seed)
    copies = [x] + [shifted(x, rng) for _ in range(-(-n // len(x)) - 1)]
    return np.concatenate(copies)[:n], np.tile(y, len(copies))[:n]


def write_npz(path: Path, n_train: int | None = None, n_test: int | None = None) -> dict:
    """Write Keras's mnist.npz layout (x_train, y_train, x_test, y_test; uint8, 255 = white)
    and say what went in."""
    xtr, ytr, xte, yte = base_arrays()
    tiled = (n_train or 0) > len(xtr)
    xtr, ytr = sized(xtr, ytr, n_train or len(xtr))
    xte, yte = xte[:n_test or len(xte)], yte[:n_test or len(yte)]
    np.savez(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    return {"path": str(path), "source": source_name(), "train": len(xtr), "test": len(xte),
            "tiled": tiled}

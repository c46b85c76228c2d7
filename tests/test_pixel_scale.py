"""Pixel scale outside CSV: npz and IDX follow the same white-level rules as CSV files
(one decision per file, over all its sets), and the bundled digits keep their own mapping."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from mnist_cli.config.schema import DataConfig
from mnist_cli.data import load_dataset, load_inputs

N = 60


def digits() -> tuple[np.ndarray, np.ndarray]:
    bunch = load_digits()
    return bunch.data[:N].astype(int), bunch.target[:N].astype(int)


def as_255(pixels16: np.ndarray) -> np.ndarray:
    return np.rint(pixels16 * 255.0 / 16.0).astype(np.uint8)


def test_npz_scales_follow_the_same_rules(tmp_path: Path) -> None:
    x, y = digits()
    images = x.reshape(N, 8, 8)
    np.savez(tmp_path / "d16.npz", x_train=images[:40], y_train=y[:40], x_test=images[40:],
             y_test=y[40:])
    ds = load_dataset(DataConfig(spec=str(tmp_path / "d16.npz"), validation_split=0), 0)
    np.testing.assert_array_equal(ds.test.x[..., 0], as_255(images[40:]))
    assert any("0-16" in n for n in ds.description.notes)
    np.savez(tmp_path / "unit.npz", x_train=images[:40] / 16.0, y_train=y[:40],
             x_test=images[40:] / 16.0, y_test=y[40:])
    data, desc = load_inputs(str(tmp_path / "unit.npz"))
    np.testing.assert_array_equal(data.x[..., 0], as_255(images[40:]))
    assert any("fractions in [0, 1]" in n for n in desc.notes)


def test_bundled_digits_keep_their_scale() -> None:
    """sklearn digits (0-16) are mapped by the loader itself: no second scaling, no note."""
    ds = load_dataset(DataConfig(spec="digits", validation_split=0), seed=0)
    everything = np.concatenate([ds.train.x, ds.test.x]).reshape(-1, 64)
    assert everything.max() == 255 and ds.description.notes == []
    bunch = load_digits()
    assert sorted(map(bytes, everything)) == sorted(map(bytes, as_255(bunch.data)))


def write_idx(directory: Path, images: np.ndarray, labels: np.ndarray) -> None:
    n, h, w = images.shape
    (directory / "train-images-idx3-ubyte").write_bytes(
        struct.pack(">IIII", 0x803, n, h, w) + images.astype(np.uint8).tobytes())
    (directory / "train-labels-idx1-ubyte").write_bytes(
        struct.pack(">II", 0x801, n) + labels.astype(np.uint8).tobytes())


def test_idx_0_255_unchanged_and_0_16_announced(tmp_path: Path) -> None:
    x, y = digits()
    (tmp_path / "mnist").mkdir()
    write_idx(tmp_path / "mnist", as_255(x).reshape(N, 8, 8), y)
    data, desc = load_inputs(str(tmp_path / "mnist"))
    np.testing.assert_array_equal(data.x.reshape(N, -1), as_255(x))
    assert desc.notes == []
    (tmp_path / "sixteen").mkdir()
    write_idx(tmp_path / "sixteen", x.reshape(N, 8, 8), y)
    data, desc = load_inputs(str(tmp_path / "sixteen"))
    np.testing.assert_array_equal(data.x.reshape(N, -1), as_255(x))
    assert any("0-16" in n for n in desc.notes)
    data, desc = load_inputs(str(tmp_path / "sixteen"), pixel_max=255)
    np.testing.assert_array_equal(data.x.reshape(N, -1), x)
    assert desc.notes == []

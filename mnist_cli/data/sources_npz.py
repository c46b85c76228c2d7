"""Keras's `mnist.npz` layout: x_train, y_train, x_test, y_test."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from mnist_cli.data.pixels import white_level
from mnist_cli.data.raw import RawData, hash_files
from mnist_cli.data.shape import as_images
from mnist_cli.data.types import Split
from mnist_cli.errors import DataError

KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_npz(
    path: Path, image_shape: list[int] | None = None, pixel_max: int | None = None
) -> RawData:
    """Train and test sets from an .npz (never unpickles: allow_pickle=False).

    One pixel scale for both sets, decided over both (`pixels.white_level`).
    """
    if not path.is_file():
        raise DataError(f"no such file '{path}': check the path")
    arrays = _read(path)
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise DataError(
            f"{path}: missing array(s) {', '.join(missing)}; an .npz needs "
            f"{', '.join(KEYS)} (Keras's mnist.npz layout); found {', '.join(arrays) or 'none'}"
        )
    white, note = white_level([arrays["x_train"], arrays["x_test"]], pixel_max, str(path))
    sets = {
        name: _split(arrays[f"x_{name}"], arrays[f"y_{name}"], image_shape, f"{path}[{name}]",
                     white)
        for name in ("train", "test")
    }
    return RawData(sets, f"npz:{path}", hash_files([path]), [note] if note else [])


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from None


def _split(x: np.ndarray, y: np.ndarray, image_shape: list[int] | None, source: str,
           white: float) -> Split:
    images = as_images(x, image_shape, source, white)
    if y.ndim != 1 or len(y) != len(images):
        raise DataError(f"{source}: {len(images)} images but labels have shape {y.shape}")
    return Split(images, labels_int64(y, source))


def labels_int64(y: np.ndarray, source: str) -> np.ndarray:
    """Whole, non-negative labels as int64."""
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise DataError(f"{source}: labels have type {y.dtype}; expected integers")
    if y.size and (np.any(y < 0) or np.any(np.asarray(y) != np.round(y))):
        raise DataError(f"{source}: labels must be whole numbers >= 0")
    return y.astype(np.int64)

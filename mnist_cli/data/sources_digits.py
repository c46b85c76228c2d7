"""scikit-learn's bundled 8x8 digits: real handwriting that needs no download."""

from __future__ import annotations

import numpy as np

from mnist_cli.data.raw import RawData, hash_arrays
from mnist_cli.data.types import Split


def load_digits() -> RawData:
    """1,797 images, 0..16 rescaled to 0..255 (round(v*255/16)) so they look like MNIST pixels."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = np.rint(bunch.images * 255.0 / 16.0).astype(np.uint8)[..., None]
    y = bunch.target.astype(np.int64)
    return RawData({"all": Split(x, y)}, "digits (scikit-learn, 8x8)", hash_arrays(x, y))

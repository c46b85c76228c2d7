"""Flat pixel rows -> (N, H, W, 1) uint8 images, with the shape inferred or checked."""

from __future__ import annotations

import math

import numpy as np

from mnist_cli.data.pixels import to_uint8
from mnist_cli.errors import DataError


def infer_hw(n_pixels: int, image_shape: list[int] | None, source: str) -> tuple[int, int]:
    """Height and width for `n_pixels`: the given shape (checked) or the square root."""
    if image_shape is not None:
        if len(image_shape) != 2 or any(int(d) < 1 for d in image_shape):
            raise DataError(f"image shape {list(image_shape)} must be two positive numbers H W")
        h, w = int(image_shape[0]), int(image_shape[1])
        if h * w != n_pixels:
            raise DataError(
                f"{source}: image shape {h}x{w} needs {h * w} pixels per image but the data "
                f"has {n_pixels}; pass a matching --image-shape H W"
            )
        return h, w
    side = math.isqrt(n_pixels)
    if n_pixels < 1 or side * side != n_pixels:
        raise DataError(
            f"{source}: {n_pixels} pixels per image is not a square; pass --image-shape H W"
        )
    return side, side


def to_images(flat: np.ndarray, image_shape: list[int] | None, source: str) -> np.ndarray:
    """(N, P) pixels in 0..255 -> uint8 (N, H, W, 1)."""
    h, w = infer_hw(int(flat.shape[1]), image_shape, source)
    return np.ascontiguousarray(flat, dtype=np.uint8).reshape(-1, h, w, 1)


def as_images(
    x: np.ndarray, image_shape: list[int] | None, source: str, white: float | None = None
) -> np.ndarray:
    """Any of (N, P), (N, H, W), (N, H, W, 1) -> uint8 (N, H, W, 1), checking values and shape.

    `white` is the value that means white (from `pixels.white_level`, decided once over all
    of a file's arrays); None keeps the 0-255 reading used for TFDS images.
    """
    if x.ndim < 2:
        raise DataError(f"{source}: images have shape {x.shape}; expected (N, H, W) or (N, H*W)")
    if x.ndim == 4:
        if x.shape[-1] != 1:
            raise DataError(f"{source}: images have {x.shape[-1]} channels; only grayscale works")
        x = x[..., 0]
    if x.ndim > 3:
        raise DataError(f"{source}: images have shape {x.shape}; expected (N, H, W)")
    x = pixels_uint8(x, source) if white is None else to_uint8(x, white)
    if x.ndim == 2:
        return to_images(x, image_shape, source)
    if image_shape is not None:
        infer_hw(x.shape[1] * x.shape[2], image_shape, source)
        return x.reshape(-1, int(image_shape[0]), int(image_shape[1]), 1)
    return x[..., None]


def pixels_uint8(x: np.ndarray, source: str) -> np.ndarray:
    """Check pixels are 0..255 (or 0..1 floats, scaled up) and return uint8."""
    if x.dtype == np.uint8:
        return x
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise DataError(f"{source}: pixel values have type {x.dtype}; expected numbers 0-255")
    if x.size and not np.all(np.isfinite(x)):
        raise DataError(f"{source}: pixel values include NaN or infinity")
    lo, hi = (x.min(), x.max()) if x.size else (0, 0)
    if lo < 0 or hi > 255:
        raise DataError(f"{source}: pixel values span {lo}..{hi}; expected 0-255")
    if np.issubdtype(x.dtype, np.floating) and hi <= 1.0:
        x = x * 255.0
    return np.rint(x).astype(np.uint8)

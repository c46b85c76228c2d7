"""Pixel scale: which value means white, decided once per source and never silently.

Everything downstream expects uint8 0-255 (and divides by 255). Files in the wild also come as
0-16 integers (scikit-learn/UCI digits), 0/1 (binary) or floats already in [0, 1]; read as
0-255 they would train on nearly black images with exit 0. So the white level is detected from
the data's range and announced with a note, or given with `--pixel-max` (`data.pixel_max`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mnist_cli.errors import DataError

FLAG = "--pixel-max"
SKLEARN_MAX = 16
"""scikit-learn's and UCI's digits use whole numbers 0-16."""


def value_range(arrays: Sequence[np.ndarray], source: str) -> tuple[float, float, bool]:
    """(lowest, highest, all whole numbers) over `arrays`, refusing non-numbers."""
    lo, hi, whole = 0.0, 0.0, True
    present = [a for a in arrays if a.size]
    for a in present:
        if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
            raise DataError(f"{source}: pixel values have type {a.dtype}; expected numbers 0-255")
        if np.issubdtype(a.dtype, np.floating):
            if not np.all(np.isfinite(a)):
                raise DataError(f"{source}: pixel values include NaN or infinity")
            whole = whole and bool(np.all(a == np.rint(a)))
    if present:
        lo = float(min(a.min() for a in present))
        hi = float(max(a.max() for a in present))
    return lo, hi, whole


def white_level(
    arrays: Sequence[np.ndarray], pixel_max: int | None, source: str
) -> tuple[float, str | None]:
    """The value that means white, and a note for the user when it is not the usual 255.

    `pixel_max` (the flag) wins; otherwise: whole numbers up to 255 -> 255, up to 16 -> 16,
    up to 1 -> 1 (binary); fractions in [0, 1] -> 1 (already scaled). Anything else is refused.
    """
    lo, hi, whole = value_range(arrays, source)
    if lo < 0:
        raise DataError(f"{source}: pixel values span {fmt(lo)}..{fmt(hi)}; expected 0-255 "
                        f"(or pass {FLAG} N for pixels 0-N)")
    if pixel_max is not None:
        if hi > pixel_max:
            raise DataError(f"{source}: pixel values reach {fmt(hi)} but {FLAG} is {pixel_max}; "
                            f"pass the data's white level as {FLAG}")
        return float(pixel_max), None
    if not whole:
        if hi <= 1:
            return 1.0, (f"{source}: pixels are fractions in [0, 1]; read as already scaled "
                         f"(1 = white)")
        raise DataError(f"{source}: pixel values are fractions up to {fmt(hi)}; expected whole "
                        f"numbers 0-255 or fractions in [0, 1] (or pass {FLAG} N for pixels 0-N)")
    return _whole_level(hi, source)


def _whole_level(hi: float, source: str) -> tuple[float, str | None]:
    if hi > 255:
        raise DataError(f"{source}: pixel values reach {fmt(hi)}, outside 0-255; rescale them "
                        f"or pass {FLAG} N for pixels 0-N")
    if hi > SKLEARN_MAX:
        return 255.0, None
    if hi > 1:
        return float(SKLEARN_MAX), (
            f"{source}: pixels span 0-{fmt(hi)}: read as the 0-16 scale of scikit-learn/UCI "
            f"digits and scaled by 16 (pass {FLAG} 255 if they really are 0-255 pixels)")
    if hi == 1:
        return 1.0, (f"{source}: pixels are 0 and 1: read as binary images (1 = white); pass "
                     f"{FLAG} 255 if they really are 0-255 pixels")
    return 255.0, f"{source}: every pixel is 0 (blank images); check the file"


def to_uint8(x: np.ndarray, white: float) -> np.ndarray:
    """Pixels 0..white -> uint8 0..255 (round(v * 255 / white), as the bundled digits are)."""
    if white == 255 and x.dtype == np.uint8:
        return x
    if white == 255 and np.issubdtype(x.dtype, np.integer):
        return x.astype(np.uint8)
    return np.rint(x * (255.0 / white)).astype(np.uint8)


def fmt(v: float) -> str:
    """1.0 -> '1', 0.5 -> '0.5': values as a person would write them."""
    return f"{v:g}"

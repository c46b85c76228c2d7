"""Which line is a header and which column is the label, decided from what the file shows.

Rules (docs/data.md, "CSV files"): a first line is a header only if it looks like one: names
(`label,pixel0,...`) or column numbers (`0,1,...,784`, what pandas writes for an unnamed
frame), never a data row with a gap. The label is the column named like one, else chosen by
`--label-column auto|first|last|NAME`; `auto` picks first or last from the values and refuses
when both could be labels.
"""

from __future__ import annotations

import math
import re

import numpy as np

from mnist_cli.errors import DataError

MAX_LABEL = 9
BLANK_SHARE = 0.75
PIXEL_NAME = re.compile(r"^(pixel|pix|px|p|col|c)?[_ ]?\d+([x_]\d+)?$", re.IGNORECASE)
"""pixel0, px_12, 0, 1x1 (row x column), c3: names a header gives its pixel columns."""
FLAG = "--label-column"
KEYWORDS = ("auto", "first", "last")
LABEL_NAMES = ("label", "labels", "digit", "digits", "class", "target", "y")
MISSING = {"nan", "na", "n/a", "null", "none", "nat", "<na>", "-nan", "inf", "-inf", "+inf"}


def cell_kind(cell: str) -> str:
    """'number' | 'empty' | 'missing' (NaN, NA, inf...) | 'name'."""
    cell = cell.strip().strip('"').strip()
    if not cell:
        return "empty"
    if cell.lower() in MISSING:
        return "missing"
    try:
        return "number" if math.isfinite(float(cell)) else "missing"
    except ValueError:
        return "name"


def split_cells(line: str) -> list[str]:
    return [c.strip().strip('"').strip() for c in line.split(",")]


def is_header(cells: list[str]) -> bool:
    """Names, or names and column numbers counting up by one (`0,1,...,784`, `label,0,...`).

    A row with an empty or NaN cell, or numbers that are not column positions, is data.
    """
    kinds = [cell_kind(c) for c in cells]
    if any(k in ("empty", "missing") for k in kinds):
        return False
    numbers = [(i, float(c)) for i, (c, k) in enumerate(zip(cells, kinds, strict=True))
               if k == "number"]
    if not numbers:
        return True
    if len(numbers) < 3 or any(v != int(v) for _, v in numbers):
        return False
    offsets = {int(v) - i for i, v in numbers}
    return len(offsets) == 1 and offsets.pop() in (-1, 0, 1)


def header_hint(cells: list[str]) -> str | None:
    """Why a first line that reads like a header was not taken as one (for its error)."""
    kinds = [cell_kind(c) for c in cells]
    gaps = [i for i, k in enumerate(kinds) if k in ("empty", "missing")]
    if not gaps:
        return None
    if gaps == [0] and kinds[0] == "empty" and is_header(cells[1:]):
        return ("it looks like a header with an unnamed index column (pandas' to_csv "
                "without index=False); remove that column")
    if "name" in kinds:
        return (f"it looks like a header but column {gaps[0] + 1} is empty or NaN; name that "
                "column or delete it")
    return None


def check_choice(label_column: str) -> str:
    choice = label_column.strip()
    if not choice:
        raise DataError(f"{FLAG} is empty; use auto, first, last or a header column name")
    return choice


def check_name(names: list[str] | None, choice: str, source: str) -> None:
    """A NAME choice needs a header that has that column."""
    if choice in KEYWORDS:
        return
    if names is None:
        raise DataError(f"{source}: {FLAG} {choice!r} names a column, but the file has no "
                        f"header line; use {FLAG} first or {FLAG} last")
    by_name(names, choice, source)


def labeled_by_width(ncols: int, image_shape: list[int] | None) -> bool:
    """Without a label name: a label column exists unless the width is exactly an image."""
    if image_shape is not None and len(image_shape) == 2:
        return int(image_shape[0]) * int(image_shape[1]) != ncols
    square = math.isqrt(ncols) ** 2 == ncols
    return (ncols > 1 and math.isqrt(ncols - 1) ** 2 == ncols - 1) or not square


def by_name(names: list[str], choice: str, source: str) -> int | None:
    """Index of the label column named in the header (`choice` a name, or auto's known names)."""
    lowered = [n.lower() for n in names]
    if choice not in KEYWORDS:
        if choice in names:
            return names.index(choice)
        if choice.lower() in lowered:
            return lowered.index(choice.lower())
        raise DataError(f"{source}: {FLAG} {choice!r}: no such column in the header "
                        f"({_preview(names)}); use auto, first, last or a header name")
    hits = [i for i, n in enumerate(lowered) if n in LABEL_NAMES]
    if len(hits) > 1:
        both = " and ".join(repr(names[i]) for i in hits)
        raise DataError(f"{source}: columns {both} both look like the label; pass {FLAG} NAME")
    return hits[0] if hits else None


def _preview(names: list[str]) -> str:
    shown = ", ".join(names[:4])
    return f"{shown}, ... {names[-1]}" if len(names) > 5 else ", ".join(names)


def _refuse_unknown_names(names: list[str], source: str) -> None:
    """A named column that is neither a pixel nor a known label: the label, or an index?"""
    odd = [n for n in names if not PIXEL_NAME.match(n)]
    if odd:
        shown = ", ".join(repr(n) for n in odd[:3])
        raise DataError(f"{source}: header column(s) {shown} are neither pixels nor a label "
                        f"named {', '.join(LABEL_NAMES[:4])}...; pass {FLAG} NAME for the label "
                        "column (other extra columns must be removed)")


def label_like(column: np.ndarray) -> bool:
    """Whole class ids 0-9 with at least two distinct values."""
    if not column.size or column.min() < 0 or column.max() > MAX_LABEL:
        return False
    if np.issubdtype(column.dtype, np.floating) and not np.all(column == np.rint(column)):
        return False
    return np.unique(column).size >= 2


def mostly_blank(column: np.ndarray) -> bool:
    """At least 3/4 zeros: an image border pixel, not the labels of two or more classes."""
    return bool(np.count_nonzero(column == 0) >= BLANK_SHARE * column.size)


def first_or_last(table: np.ndarray, source: str) -> int:
    """`auto` without a label name: 0 or the last index, refusing when the values cannot tell.

    A column is the label when it holds class ids 0-9 and the other end does not; when both
    do (0-16 or 0/1 pixels), the mostly blank one is the image border.
    """
    last = table.shape[1] - 1
    first_like, last_like = label_like(table[:, 0]), label_like(table[:, last])
    if first_like and last_like:
        first_like = not mostly_blank(table[:, 0])
        last_like = not mostly_blank(table[:, last])
        if first_like == last_like:
            raise DataError(f"{source}: both the first and the last column look like labels "
                            f"(digits 0-9); pass {FLAG} first or {FLAG} last")
    if last_like:
        return last
    if not first_like and _both_constant_labels(table[:, 0], table[:, last]):
        raise DataError(f"{source}: every row has label {_fmt(table[0, 0])} in the first column "
                        f"or {_fmt(table[0, last])} in the last; cannot tell which is the label: "
                        f"pass {FLAG} first or {FLAG} last")
    return 0


def _both_constant_labels(a: np.ndarray, b: np.ndarray) -> bool:
    def constant_label(c: np.ndarray) -> bool:
        return bool(c.size and c.min() == c.max() and 0 <= c[0] <= MAX_LABEL and c[0] == int(c[0]))

    return constant_label(a) and constant_label(b) and a[0] != b[0]


def _fmt(v: float) -> str:
    return f"{v:g}"


def label_index(
    table: np.ndarray, names: list[str] | None, choice: str, image_shape: list[int] | None,
    source: str,
) -> int | None:
    """The label's column index, or None for an unlabeled file (Kaggle's test.csv)."""
    choice = check_choice(choice)
    ncols = table.shape[1]
    if choice == "first":
        return 0
    if choice == "last":
        return ncols - 1
    check_name(names, choice, source)
    if names is not None:
        named = by_name(names, choice, source)
        if named is not None:
            return named
        _refuse_unknown_names(names, source)
    if not labeled_by_width(ncols, image_shape):
        return None
    return first_or_last(table, source)

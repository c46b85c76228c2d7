"""The exact, line-by-line side of CSV reading: first line, line numbers, and a scan that
either names the first bad line and column or reads what the fast pass found irregular."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnist_cli.data.csv_layout import cell_kind, header_hint
from mnist_cli.errors import DataError

BOM = b"\xef\xbb\xbf"


def binary_error(path: Path) -> DataError:
    return DataError(
        f"{path}: is not a text CSV file (binary data); pass an MNIST-style CSV, or use .npz/IDX"
    )


def refuse_binary(head: bytes, path: Path) -> None:
    """Refuse binary files up front (gzip, images, npz renamed .csv) with a clear message."""
    if b"\x00" in head or head[:2] == b"\x1f\x8b":
        raise binary_error(path)


def decode(raw: bytes, path: Path, partial: bool = False) -> str:
    """UTF-8 text; `partial` tolerates a character cut at the end of a prefix."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if partial and e.start >= len(raw) - 4:
            return raw[: e.start].decode("utf-8-sig")
        raise binary_error(path) from None


def first_line(raw: bytes, path: Path) -> tuple[int, str, int]:
    """(1-based line number, text, byte offset after it) of the first non-blank line.

    Blank lines before a header are skipped here, so the header is found where it is.
    """
    pos, lineno = (len(BOM) if raw.startswith(BOM) else 0), 1
    while pos < len(raw):
        nl = raw.find(b"\n", pos)
        end = len(raw) if nl < 0 else nl + 1
        if raw[pos:end].strip():
            return lineno, decode(raw[pos:end], path).strip(), end
        pos, lineno = end, lineno + 1
    raise DataError(f"{path}: the file is empty; expected rows of label,pixel values")


def data_lines(text: str, header_line: int) -> list[tuple[int, str]]:
    """(line number, stripped text) of every non-blank line after the header."""
    lines = enumerate(text.split("\n"), start=1)
    return [(n, s) for n, line in lines if n > header_line and (s := line.strip())]


def line_of_row(text: str, header_line: int, row: int) -> int:
    """The file line (1-based, as an editor shows it) of data row `row` (0-based)."""
    return data_lines(text, header_line)[row][0]


def scan(text: str, path: Path, header_line: int, ncols: int, label: int | None) -> np.ndarray:
    """Every data row as float64, or a DataError naming the first bad line and column.

    `label` is the column to call 'label' in messages (None: every cell is a pixel).
    """
    header = text.split("\n")[header_line - 1].strip() if header_line else None
    what = "a label and pixel values" if label is not None else "pixel values"
    rows = []
    for lineno, line in data_lines(text, header_line):
        if header and line == header:
            raise DataError(f"{path}: line {lineno}: duplicated header line; delete it")
        cells = line.split(",")
        if len(cells) != ncols:
            first = header_line or lineno
            raise DataError(
                f"{path}: line {lineno}: has {len(cells)} columns, expected {ncols} "
                f"({what}, like line {first}); fix or delete that row"
            )
        try:
            rows.append(numbers(cells, lineno, path, label))
        except DataError as e:
            hint = None if rows or header_line else header_hint(cells)
            raise DataError(f"{path}: line {lineno}: {hint}") if hint else e from None
    return np.array(rows, np.float64).reshape(-1, ncols)


def numbers(cells: list[str], lineno: int, path: Path, label: int | None) -> np.ndarray:
    values = np.empty(len(cells), np.float64)
    for col, cell in enumerate(cells):
        value = cell.strip().strip('"').strip()
        kind = cell_kind(value)
        if kind != "number":
            name = "label" if col == label else "pixel value"
            problem = {"empty": f"empty {name}", "missing": f"missing {name} {value!r}"}.get(
                kind, f"non-numeric {name} {value!r}")
            raise DataError(f"{path}: line {lineno}, column {col + 1}: {problem}; every cell "
                            "must be a number (fill it in or delete the row)")
        values[col] = float(value)
    return values

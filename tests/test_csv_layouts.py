"""CSV layouts are never silently mis-read (issue 12, section 1).

Label last (UCI optdigits, `to_csv(header=False)`), numeric headers (pandas' unnamed frame),
unlabeled rows with gaps, label columns named or chosen with --label-column, single-class
training labels, and pixel scales other than 0-255. Every file here is tiny and written by
the test from scikit-learn's bundled digits, so the right answer is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from mnist_cli.config.schema import DataConfig
from mnist_cli.data import load_dataset, load_inputs
from mnist_cli.errors import DataError

N = 60


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """60 real 8x8 digits: pixels 0-16 as scikit-learn ships them, and their labels."""
    bunch = load_digits()
    return bunch.data[:N].astype(int), bunch.target[:N].astype(int)


def write_rows(path: Path, rows: np.ndarray, header: list[str] | None = None,
               before: str = "") -> Path:
    lines = [",".join(map(str, r)) for r in rows]
    path.write_text(before + "\n".join(([",".join(header)] if header else []) + lines) + "\n")
    return path


def as_255(pixels16: np.ndarray) -> np.ndarray:
    """The bundled digits' own 0-16 -> 0-255 mapping."""
    return np.rint(pixels16 * 255.0 / 16.0).astype(np.uint8)


def test_headerless_label_last_uci_optdigits(tmp_path: Path, digits: tuple) -> None:
    """UCI optdigits: 64 pixels 0-16 then the label, no header. Used to load every label as 0."""
    x, y = digits
    path = write_rows(tmp_path / "optdigits.tra.csv", np.column_stack([x, y]))
    data, desc = load_inputs(str(path))
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.x.reshape(N, -1), as_255(x))
    assert "label last" in desc.source
    assert any("0-16" in n and "--pixel-max" in n for n in desc.notes)


def test_pandas_header_false_label_last(tmp_path: Path, digits: tuple) -> None:
    """`df.to_csv(header=False, index=False)` of a pixels+label frame, 0-255 pixels."""
    x, y = digits
    frame = pd.DataFrame(as_255(x).astype(int))
    frame["label"] = y
    path = tmp_path / "frame.csv"
    frame.to_csv(path, header=False, index=False)
    data, desc = load_inputs(str(path))
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.x.reshape(N, -1), as_255(x))
    assert desc.notes == []


@pytest.mark.parametrize("label_first", [True, False])
def test_numeric_header_of_an_unnamed_frame_is_a_header(
    tmp_path: Path, digits: tuple, label_first: bool
) -> None:
    """pandas writes `0,1,...,64` for an unnamed frame: a header, not a 61st example."""
    x, y = digits
    cols = [y[:, None], as_255(x)] if label_first else [as_255(x), y[:, None]]
    path = tmp_path / "unnamed.csv"
    pd.DataFrame(np.hstack(cols).astype(int)).to_csv(path, index=False)
    assert path.read_text().startswith("0,1,2,3,")
    data, _ = load_inputs(str(path))
    assert len(data) == N
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.x.reshape(N, -1), as_255(x))


def test_mnist_width_numeric_header(tmp_path: Path) -> None:
    """785 columns `0..784` (pandas, unnamed MNIST frame): header row is not data."""
    rng = np.random.default_rng(1)
    table = np.column_stack([np.arange(20) % 10, rng.integers(0, 256, (20, 784))])
    table[:, -1] = 0  # MNIST's corner pixels are blank
    path = tmp_path / "mnist_unnamed.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    data, _ = load_inputs(str(path))
    assert len(data) == 20 and list(data.y) == list(np.arange(20) % 10)


GAPS = {"empty cell": "", "NaN": "NaN", "nan": "nan", "NA": "NA"}


@pytest.mark.parametrize("gap", sorted(GAPS))
def test_unlabeled_first_row_with_a_gap_is_an_error_not_a_header(
    tmp_path: Path, gap: str
) -> None:
    """Kaggle test.csv rows without a header: a gap in row 1 used to drop it as a header,
    shifting every ImageId of `predict --format kaggle` by one."""
    rng = np.random.default_rng(2)
    rows = [[str(v) for v in r] for r in rng.integers(20, 256, (5, 784))]
    rows[0][3] = GAPS[gap]
    path = tmp_path / "test.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    with pytest.raises(DataError, match=r"test.csv: line 1, column 4: (empty|missing) pixel"):
        load_inputs(str(path))


def test_gap_in_a_data_row_after_a_header_names_the_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rows = [[str(v) for v in r] for r in rng.integers(20, 256, (5, 784))]
    rows[2][700] = "NaN"
    header = ",".join(f"pixel{i}" for i in range(784))
    path = tmp_path / "test.csv"
    path.write_text(header + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
    with pytest.raises(DataError, match=r"line 4, column 701: missing pixel value 'NaN'"):
        load_inputs(str(path))


@pytest.mark.parametrize("name", ["label", "digit", "Label"])
def test_header_with_label_last_or_named_digit(tmp_path: Path, digits: tuple,
                                                name: str) -> None:
    """Used to fail with '65 pixels per image is not a square; pass --image-shape'."""
    x, y = digits
    pixels = [f"pixel{i}" for i in range(64)]
    last = write_rows(tmp_path / "last.csv", np.column_stack([as_255(x), y]), [*pixels, name])
    first = write_rows(tmp_path / "first.csv", np.column_stack([y, as_255(x)]), [name, *pixels])
    for path in (last, first):
        data, _ = load_inputs(str(path))
        np.testing.assert_array_equal(data.y, y)
        np.testing.assert_array_equal(data.x.reshape(N, -1), as_255(x))


def test_blank_lines_before_the_header(tmp_path: Path, digits: tuple) -> None:
    """Used to say 'line 3: duplicated header line'."""
    x, y = digits
    header = ["label", *(f"pixel{i}" for i in range(64))]
    path = write_rows(tmp_path / "blank.csv", np.column_stack([y, as_255(x)]), header, "\n\n")
    data, _ = load_inputs(str(path))
    assert len(data) == N
    np.testing.assert_array_equal(data.y, y)


def test_duplicated_header_after_blank_lines_names_its_line(tmp_path: Path,
                                                            digits: tuple) -> None:
    x, y = digits
    header = ",".join(["label", *(f"pixel{i}" for i in range(64))])
    rows = [",".join(map(str, r)) for r in np.column_stack([y, as_255(x)])[:4]]
    path = tmp_path / "dup.csv"
    path.write_text("\n\n" + "\n".join([header, *rows[:2], header, *rows[2:]]) + "\n")
    with pytest.raises(DataError, match=r"line 6: duplicated header line"):
        load_inputs(str(path))


def binary_label_last(tmp_path: Path, digits: tuple) -> tuple[Path, np.ndarray, np.ndarray]:
    """0/1 pixels with the label last: the first column could be labels too."""
    x, y = digits
    bits = (x > 8).astype(int)
    bits[:, 0] = np.arange(N) % 2  # a first pixel column that looks like class ids
    return write_rows(tmp_path / "bits.csv", np.column_stack([bits, y])), bits, y


def test_auto_refuses_when_it_cannot_tell(tmp_path: Path, digits: tuple) -> None:
    path, _, _ = binary_label_last(tmp_path, digits)
    with pytest.raises(DataError, match=r"bits.csv: both the first and the last column look "
                       r"like labels .* pass --label-column first or --label-column last"):
        load_inputs(str(path))


def test_label_column_first_last_and_name(tmp_path: Path, digits: tuple) -> None:
    path, bits, y = binary_label_last(tmp_path, digits)
    data, desc = load_inputs(str(path), label_column="last")
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.x.reshape(N, -1), bits * 255)
    assert any("binary" in n for n in desc.notes)
    data, _ = load_inputs(str(path), label_column="first")
    np.testing.assert_array_equal(data.y, bits[:, 0])
    x, _ = digits
    pixels = as_255(x)
    names = [f"pixel{i}" for i in range(64)]
    named = write_rows(tmp_path / "named.csv",
                       np.column_stack([pixels[:, :30], y, pixels[:, 30:]]),
                       [*names[:30], "truth", *names[30:]])
    with pytest.raises(DataError, match=r"header column\(s\) 'truth' are neither pixels nor a "
                       r"label .* pass --label-column NAME"):
        load_inputs(str(named))
    data, _ = load_inputs(str(named), label_column="truth")
    np.testing.assert_array_equal(data.y, y)
    np.testing.assert_array_equal(data.x.reshape(N, -1), pixels)


def test_label_column_mistakes_name_the_flag(tmp_path: Path, digits: tuple) -> None:
    path, _, _ = binary_label_last(tmp_path, digits)
    with pytest.raises(DataError, match=r"--label-column 'digit' names a column, but the file "
                       r"has no header line; use --label-column first or --label-column last"):
        load_inputs(str(path), label_column="digit")
    x, y = digits
    named = write_rows(tmp_path / "named.csv", np.column_stack([y, as_255(x)]),
                       ["label", *(f"pixel{i}" for i in range(64))])
    with pytest.raises(DataError, match=r"--label-column 'digits': no such column in the "
                       r"header \(label, pixel0, .*pixel63\)"):
        load_inputs(str(named), label_column="digits")


def test_single_class_training_labels_are_refused(tmp_path: Path, digits: tuple) -> None:
    """The first pixel of every optdigits row is 0: taken as the label, all labels are 0."""
    x, y = digits
    path = write_rows(tmp_path / "optdigits.csv", np.column_stack([x, y]))
    cfg = DataConfig(spec=str(path), label_column="first")
    with pytest.raises(DataError, match=r"all 60 labels are 0: is the label in another "
                       r"column\? see --label-column"):
        load_dataset(cfg, seed=0)
    ok = load_dataset(DataConfig(spec=str(path)), seed=0)  # auto: label last
    assert sorted(ok.description.class_counts["train"]) == list(range(10))


def test_ambiguous_constant_columns_are_refused(tmp_path: Path) -> None:
    """Every row '7,...,0': label 7 first or label 0 last? auto must not guess."""
    rows = np.column_stack([np.full(5, 7), np.full((5, 63), 200), np.zeros(5, int)])
    path = write_rows(tmp_path / "one.csv", rows)
    with pytest.raises(DataError, match="cannot tell which is the label: pass --label-column"):
        load_inputs(str(path))
    data, _ = load_inputs(str(path), label_column="first")
    assert set(data.y) == {7}


SCALES = {
    "0-16 integers": (lambda x: x, 16, "0-16 scale"),
    "0/1 binary": (lambda x: (x > 8).astype(int), 1, "binary"),
    "fractions": (lambda x: np.round(x / 16.0, 4), 1, "fractions in [0, 1]"),
}


@pytest.mark.parametrize("case", sorted(SCALES))
def test_pixel_scales_are_announced_and_scaled(tmp_path: Path, digits: tuple,
                                               case: str) -> None:
    """Never read 0-16, 0/1 or [0, 1] pixels as 0-255 (nearly black images, exit 0)."""
    make, white, words = SCALES[case]
    x, y = digits
    pixels = make(x)
    path = write_rows(tmp_path / "scaled.csv", np.column_stack([y, pixels]))
    data, desc = load_inputs(str(path))
    expected = np.rint(pixels.astype(float) * 255.0 / white).astype(np.uint8)
    np.testing.assert_array_equal(data.x.reshape(N, -1), expected)
    assert data.x.max() == 255
    assert len(desc.notes) == 1 and words in desc.notes[0] and str(path) in desc.notes[0]


def test_pixel_max_flag(tmp_path: Path, digits: tuple) -> None:
    x, y = digits
    path = write_rows(tmp_path / "sixteen.csv", np.column_stack([y, x]))
    data, desc = load_inputs(str(path), pixel_max=255)  # the user says: really 0-255
    np.testing.assert_array_equal(data.x.reshape(N, -1), x)
    assert desc.notes == []
    data, desc = load_inputs(str(path), pixel_max=16)
    np.testing.assert_array_equal(data.x.reshape(N, -1), as_255(x))
    with pytest.raises(DataError, match=r"line 1, column \d+: pixel value 1[0-6] is outside "
                       r"0-8; pass the data's white level as --pixel-max"):
        load_inputs(str(path), pixel_max=8)


def test_fractional_pixels_above_one_name_the_cell(tmp_path: Path) -> None:
    rows = np.column_stack([np.arange(4) % 10, np.full((4, 64), 100.0)])
    rows[2, 9] = 12.5
    path = tmp_path / "half.csv"
    path.write_text("\n".join(",".join(f"{v:g}" for v in r) for r in rows) + "\n")
    with pytest.raises(DataError, match=r"line 3, column 10: non-integer pixel value '12.5'"):
        load_inputs(str(path))


def test_header_like_first_lines_with_a_gap_say_why(tmp_path: Path, digits: tuple) -> None:
    """A header with an empty cell is data by the rules, but the error says what it likely is."""
    x, y = digits
    rows = np.column_stack([y, as_255(x)])
    path = tmp_path / "indexed.csv"
    pd.DataFrame(rows).to_csv(path)  # index=True: header ',0,1,...,64'
    with pytest.raises(DataError, match=r"indexed.csv: line 1: it looks like a header with an "
                       r"unnamed index column"):
        load_inputs(str(path))
    trailing = write_rows(tmp_path / "trailing.csv", rows,
                          ["label", *(f"pixel{i}" for i in range(64)), ""])
    with pytest.raises(DataError, match=r"line 1: it looks like a header but column 66 is "
                       r"empty or NaN"):
        load_inputs(str(trailing))

"""CSV loading: the three MNIST CSV layouts, every error with its line number, fuzzed bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_cli.config.schema import DataConfig
from mnist_cli.data import load_dataset, load_inputs
from mnist_cli.errors import DataError

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def rows(n: int, seed: int = 0, labeled: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (n, 784))
    if not labeled:
        return pixels
    return np.column_stack([np.arange(n) % 10, pixels])


def write(path: Path, table: np.ndarray, header: str | None = None) -> Path:
    lines = [",".join(map(str, r)) for r in table]
    path.write_text("\n".join(([header] if header else []) + lines) + "\n")
    return path


def test_headerless_keeps_every_row(tmp_path: Path) -> None:
    table = rows(37)
    table[0, 0] = 7  # a first row that pandas' defaults would have eaten as a header
    path = write(tmp_path / "mnist_train_small.csv", table)
    x, desc = load_inputs(str(path))
    assert len(x) == 37
    assert x.y[0] == 7 and x.y.dtype == np.int64
    assert x.x.shape == (37, 28, 28, 1) and x.x.dtype == np.uint8
    np.testing.assert_array_equal(x.x.reshape(37, -1), table[:, 1:])
    assert desc.image_shape == (28, 28, 1) and desc.num_classes == 10


def test_kaggle_header_layout_and_split(tmp_path: Path) -> None:
    path = write(tmp_path / "train.csv", rows(50), HEADER)
    ds = load_dataset(DataConfig(spec=str(path), validation_split=0), seed=3)
    assert len(ds.train) == 40 and len(ds.test) == 10 and ds.validation is None
    assert ds.description.sizes == {"train": 40, "validation": 0, "test": 10}
    assert sum(ds.description.class_counts["test"].values()) == 10
    assert len(ds.description.sha256) == 64
    again = load_dataset(DataConfig(spec=str(path), validation_split=0), seed=3)
    np.testing.assert_array_equal(ds.test.y, again.test.y)


def test_unlabeled_kaggle_test_csv(tmp_path: Path) -> None:
    header = ",".join(f"pixel{i}" for i in range(784))
    path = write(tmp_path / "test.csv", rows(12, labeled=False), header)
    data, desc = load_inputs(str(path))
    assert data.y is None and data.x.shape == (12, 28, 28, 1)
    assert desc.class_counts == {"test": {}}
    with pytest.raises(DataError, match="no labels"):
        load_inputs(str(path), require_labels=True)


def test_non_square_needs_image_shape(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("3," + ",".join(["100"] * 6) + "\n4," + ",".join(["200"] * 6) + "\n")
    data, _ = load_inputs(str(path), image_shape=[2, 3])
    assert data.x.shape == (2, 2, 3, 1) and list(data.y) == [3, 4]
    with pytest.raises(DataError, match="3x3 needs 9 pixels"):
        load_inputs(str(path), image_shape=[3, 3])


def good(n: int = 4) -> list[str]:
    return [",".join(map(str, r)) for r in rows(n)]


def break_line(lines: list[str], index: int, new: str) -> list[str]:
    out = list(lines)
    out[index] = new
    return out


CASES = {
    "wrong column count": (lambda: break_line(good(), 2, "1,2,3"), r"line 3: has 3 columns"),
    "ragged extra": (lambda: break_line(good(), 1, good()[1] + ",5"), r"line 2: has 786 columns"),
    "non-numeric": (
        lambda: break_line(good(), 3, "4," + ",".join(["0"] * 783) + ",x7"),
        r"line 4, column 785: non-numeric pixel value 'x7'",
    ),
    "pixel range": (
        lambda: break_line(good(), 1, "4,300" + ",0" * 783),
        r"line 2, column 2: pixel value 300 is outside 0-255",
    ),
    "negative pixel": (
        lambda: break_line(good(), 0, "4,-1" + ",0" * 783),
        r"line 1, column 2: pixel value -1",
    ),
    "label range": (lambda: break_line(good(), 2, "12" + ",0" * 784), r"line 3: label 12"),
    "non-integer label": (
        lambda: break_line(good(), 3, "2.5" + ",0" * 784),
        r"line 4, column 1: non-integer label '2.5'",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_csv_errors_name_file_and_line(tmp_path: Path, case: str) -> None:
    make, pattern = CASES[case]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(make()) + "\n")
    with pytest.raises(DataError, match=pattern) as info:
        load_inputs(str(path))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_duplicated_header_line(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("\n".join([HEADER, *good(2), HEADER, *good(2)]) + "\n")
    with pytest.raises(DataError, match=r"line 4: duplicated header line"):
        load_inputs(str(path))


def test_missing_empty_binary_and_header_only(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_inputs(str(tmp_path / "absent.csv"))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        load_inputs(str(tmp_path / "empty.csv"))
    (tmp_path / "bin.csv").write_bytes(b"\x1f\x8b\x08\x00binary\x00\xff")
    with pytest.raises(DataError, match="not a text CSV"):
        load_inputs(str(tmp_path / "bin.csv"))
    (tmp_path / "head.csv").write_text(HEADER + "\n")
    with pytest.raises(DataError, match="no data rows"):
        load_inputs(str(tmp_path / "head.csv"))


FUZZ = st.one_of(st.binary(max_size=300), st.text(alphabet="0123456789,-.\n ab", max_size=200))


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=FUZZ)
def test_arbitrary_bytes_give_result_or_data_error(tmp_path: Path, data: bytes | str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    try:
        split, desc = load_inputs(str(path))
    except DataError as e:
        assert str(e)
    else:
        assert split.x.dtype == np.uint8 and split.x.ndim == 4 and len(split) >= 1
        assert desc.sizes["test"] == len(split)

"""IDX (original MNIST files): raw and gzipped, directories and single files, every error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_cli.config.schema import DataConfig
from mnist_cli.data import load_dataset, load_inputs
from mnist_cli.errors import DataError
from tests.helpers import idx_labels, make_pair, put


@pytest.mark.parametrize("gz", [True, False])
def test_directory_train_and_test(tmp_path: Path, gz: bool) -> None:
    x_train, y_train = make_pair(tmp_path, "train", 30, gz, seed=1)
    x_test, y_test = make_pair(tmp_path, "t10k", 10, gz, seed=2)
    ds = load_dataset(DataConfig(spec=str(tmp_path), validation_split=0.2), seed=0)
    assert len(ds.train) == 24 and len(ds.validation) == 6
    np.testing.assert_array_equal(ds.test.x[..., 0], x_test)
    np.testing.assert_array_equal(ds.test.y, y_test)
    assert ds.test.y.dtype == np.int64 and ds.train.x.dtype == np.uint8
    assert ds.description.image_shape == (28, 28, 1)
    assert ds.description.sizes == {"train": 24, "validation": 6, "test": 10}


def test_only_t10k_is_split(tmp_path: Path) -> None:
    make_pair(tmp_path, "t10k", 20, gz=True)
    ds = load_dataset(DataConfig(spec=str(tmp_path), validation_split=0), seed=5)
    assert len(ds.train) == 16 and len(ds.test) == 4


def test_single_images_file_finds_labels(tmp_path: Path) -> None:
    x, y = make_pair(tmp_path, "t10k", 8, gz=False)
    data, desc = load_inputs(str(tmp_path / "t10k-images-idx3-ubyte"), require_labels=True)
    np.testing.assert_array_equal(data.y, y)
    assert desc.class_counts["test"] == {i: 1 for i in range(8)}


def test_sha256_covers_files_in_name_order(tmp_path: Path) -> None:
    make_pair(tmp_path, "t10k", 8, gz=False)
    _, a = load_inputs(str(tmp_path))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_labels(np.arange(8)[::-1] % 10))
    _, b = load_inputs(str(tmp_path))
    assert a.sha256 != b.sha256 and len(a.sha256) == 64


def test_wrong_magic(tmp_path: Path) -> None:
    make_pair(tmp_path, "t10k", 4, gz=False)
    put(tmp_path / "t10k-images-idx3-ubyte", idx_labels(np.arange(4)))
    with pytest.raises(DataError, match=r"not an IDX images file \(magic number 0x00000801"):
        load_inputs(str(tmp_path))


def test_truncated(tmp_path: Path) -> None:
    make_pair(tmp_path, "t10k", 4, gz=False)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"truncated IDX file: header says 4x28x28"):
        load_inputs(str(tmp_path))


def test_count_mismatch(tmp_path: Path) -> None:
    make_pair(tmp_path, "t10k", 4, gz=True)
    put(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_labels(np.arange(3)))
    with pytest.raises(DataError, match="has 4 images but .* has 3 labels"):
        load_inputs(str(tmp_path))


def test_corrupt_gz(tmp_path: Path) -> None:
    make_pair(tmp_path, "t10k", 4, gz=True)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(DataError, match="corrupt gzip file"):
        load_inputs(str(tmp_path))


def test_directory_without_idx_files(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match="no IDX files found"):
        load_inputs(str(tmp_path))

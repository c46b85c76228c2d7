"""npz, digits, TFDS (mocked, and offline), auto, shapes, validation split and test_spec."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from mnist_cli.config.schema import DataConfig
from mnist_cli.data import describe_spec, load_dataset, load_inputs, sources_tfds
from mnist_cli.errors import DataError


def write_npz(path: Path, n_train: int = 30, n_test: int = 10, side: int = 28) -> Path:
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        y_train=np.arange(n_train) % 10,
        x_test=rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
        y_test=np.arange(n_test) % 10,
    )
    return path


def test_npz_train_test(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "mnist.npz")
    ds = load_dataset(DataConfig(spec=str(path), validation_split=0), seed=0)
    assert (len(ds.train), len(ds.test)) == (30, 10)
    assert ds.train.x.shape == (30, 28, 28, 1) and ds.test.y.dtype == np.int64
    with np.load(path) as f:
        np.testing.assert_array_equal(ds.test.x[..., 0], f["x_test"])


def test_npz_missing_keys(tmp_path: Path) -> None:
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 4, 4)), y_train=np.zeros(2))
    with pytest.raises(DataError, match="missing array.*x_test, y_test"):
        load_inputs(str(tmp_path / "bad.npz"))


def test_digits_total_and_seeded_split() -> None:
    cfg = DataConfig(spec="digits", validation_split=0)
    a, b, c = (load_dataset(cfg, seed=s) for s in (1, 1, 2))
    assert len(a.train) + len(a.test) == 1797 and len(a.test) == 360
    assert a.train.x.shape[1:] == (8, 8, 1) and a.train.x.max() == 255
    np.testing.assert_array_equal(a.test.x, b.test.x)
    assert not np.array_equal(a.test.x, c.test.x)
    assert a.description.num_classes == 10 and a.description.sha256 == c.description.sha256


def test_validation_split_seeded() -> None:
    cfg = DataConfig(spec="digits", validation_split=0.25)
    a, b, c = (load_dataset(cfg, seed=s) for s in (4, 4, 5))
    assert len(a.validation) == round(1437 * 0.25) and len(a.train) == 1437 - len(a.validation)
    np.testing.assert_array_equal(a.validation.x, b.validation.x)
    assert not np.array_equal(a.validation.x, c.validation.x)


def test_test_spec_and_shape_mismatch(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "eight.npz", n_train=20, n_test=6, side=8)
    ds = load_dataset(DataConfig(spec="digits", test_spec=str(path), validation_split=0), 0)
    assert len(ds.train) == 1797 and len(ds.test) == 6
    big = write_npz(tmp_path / "big.npz", side=28)
    with pytest.raises(DataError, match="28x28 but training data .* has 8x8"):
        load_dataset(DataConfig(spec="digits", test_spec=str(big)), 0)


def test_shape_inference_and_override(tmp_path: Path) -> None:
    np.savez(
        tmp_path / "flat.npz",
        x_train=np.zeros((3, 64), np.uint8),
        y_train=np.arange(3),
        x_test=np.zeros((2, 64), np.uint8),
        y_test=np.arange(2),
    )
    data, desc = load_inputs(str(tmp_path / "flat.npz"))
    assert data.x.shape == (2, 8, 8, 1) and desc.image_shape == (8, 8, 1)
    data, _ = load_inputs(str(tmp_path / "flat.npz"), image_shape=[4, 16])
    assert data.x.shape == (2, 4, 16, 1)
    with pytest.raises(DataError, match="5x5 needs 25 pixels .* has 64"):
        load_inputs(str(tmp_path / "flat.npz"), image_shape=[5, 5])


def test_unknown_spec() -> None:
    with pytest.raises(DataError, match="no such data 'nonsense': use auto, digits"):
        load_inputs("nonsense")
    assert describe_spec("digits").startswith("digits: scikit-learn")


def test_auto_falls_back_to_digits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    ds = load_dataset(DataConfig(spec="auto", data_dir=str(tmp_path / "tfds")), seed=0)
    assert ds.description.source.startswith("digits")
    assert len(ds.train) + len(ds.validation) + len(ds.test) == 1797
    assert any("8x8 digits" in n and "--data mnist" in n for n in ds.description.notes)


def test_auto_uses_cached_keras_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    write_npz(tmp_path / "keras" / "datasets" / "mnist.npz", n_train=40, n_test=12)
    ds = load_dataset(DataConfig(spec="auto", data_dir=str(tmp_path / "tfds")), seed=0)
    assert len(ds.test) == 12 and ds.description.image_shape == (28, 28, 1)
    assert any("cached by Keras" in n for n in ds.description.notes)
    assert "cached by Keras" in describe_spec("auto")


def test_tfds_offline_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources_tfds, "network_reachable", lambda timeout=3.0: False)
    start = time.monotonic()
    with pytest.raises(DataError, match="'mnist' is not in .* network is unreachable"):
        load_dataset(DataConfig(spec="mnist", data_dir=str(tmp_path)), seed=0)
    assert time.monotonic() - start < 10


@pytest.mark.slow
def test_tfds_mock_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tensorflow_datasets as tfds

    monkeypatch.setattr(sources_tfds, "network_reachable", lambda timeout=3.0: True)
    with tfds.testing.mock_data(num_examples=24):
        ds = load_dataset(DataConfig(spec="tfds:mnist", data_dir=str(tmp_path)), seed=0)
    assert len(ds.test) == 24 and len(ds.train) + len(ds.validation) == 24
    assert ds.train.x.shape[1:] == (28, 28, 1) and ds.train.x.dtype == np.uint8
    assert ds.test.y.dtype == np.int64 and ds.test.y.max() <= 9
    assert ds.description.source.startswith("tfds:mnist")


def test_tfds_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown TFDS dataset 'mnistt'.*mnist"):
        load_inputs("tfds:mnistt", data_dir=str(tmp_path))

"""The model is built on the data's image shape, peeked without loading, before any data is
read: the peek gives exactly the loaded shape for every source, or None (then nothing
changes); a layer that does not fit is refused with exit 2, naming the layer."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import mnist_cli.data.peek as peek_module
from mnist_cli.config.load import parse_config
from mnist_cli.config.schema import DataConfig, RunConfig
from mnist_cli.data import load_dataset
from mnist_cli.data.peek import peek
from mnist_cli.errors import ConfigError
from mnist_cli.training.pipeline import check_config
from tests.helpers import idx_images, idx_labels, run_cli

BIG_KERNEL = ["Conv2D: {filters: 2, kernel_size: 10}", "Flatten: {}", "Dense: {units: 10}"]


def table(n: int, pixels: int, label: str | None = "first", seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, pixels))
    y = np.arange(n) % 10
    return {"first": np.column_stack([y, x]), "last": np.column_stack([x, y]), None: x}[label]


def csv(path: Path, rows: np.ndarray, header: list[str] | None = None) -> str:
    lines = ([",".join(header)] if header else []) + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def npz(path: Path, x_shape: tuple[int, ...], y_max: int = 9) -> str:
    rng = np.random.default_rng(1)
    arrays = {f"x_{k}": rng.integers(0, 256, (n, *x_shape[1:]), dtype=np.uint8)
              for k, n in (("train", x_shape[0]), ("test", 10))}
    ys = {f"y_{k}": np.arange(n) % (y_max + 1) for k, n in (("train", x_shape[0]), ("test", 10))}
    np.savez(path, **arrays, **ys)
    return str(path)


def idx(d: Path, prefix: str, n: int, h: int, w: int, gz: bool = False) -> str:
    ext = ".gz" if gz else ""
    x = np.random.default_rng(2).integers(0, 256, (n, h, w))
    files = (("images-idx3", idx_images(x)), ("labels-idx1", idx_labels(np.arange(n) % 10)))
    for kind, data in files:
        path = d / f"{prefix}-{kind}-ubyte{ext}"
        path.write_bytes(gzip.compress(data) if gz else data)
    return str(d / f"{prefix}-images-idx3-ubyte{ext}")


def idx_dir(tmp: Path, prefixes: tuple[str, ...], gz: bool = False) -> str:
    for i, prefix in enumerate(prefixes):
        idx(tmp, prefix, 30, 10 + 2 * i, 12, gz)  # train 10x12, t10k 12x12
    return str(tmp)


PIX = [f"pixel{i}" for i in range(784)]
SOURCES: dict[str, Callable[[Path], DataConfig]] = {
    "digits": lambda t: DataConfig(spec="digits"),
    "digits-ignores-image-shape": lambda t: DataConfig(spec="digits", image_shape=[4, 16]),
    "csv-colab": lambda t: DataConfig(spec=csv(t / "mnist_train_small.csv", table(40, 784))),
    "csv-kaggle": lambda t: DataConfig(spec=csv(t / "train.csv", table(40, 784), ["label", *PIX])),
    "csv-label-last": lambda t: DataConfig(spec=csv(t / "d.csv", table(40, 64, "last")),
                                           label_column="last"),
    "csv-named-label": lambda t: DataConfig(
        spec=csv(t / "d.csv", table(40, 64, "last"), [*PIX[:64], "digit"])),
    "csv-image-shape": lambda t: DataConfig(spec=csv(t / "d.csv", table(40, 64)),
                                            image_shape=[4, 16]),
    "csv-test-csv": lambda t: DataConfig(spec=csv(t / "a.csv", table(40, 64)),
                                         test_spec=csv(t / "b.csv", table(20, 64, seed=3))),
    "npz-3d": lambda t: DataConfig(spec=npz(t / "m.npz", (30, 8, 8))),
    "npz-flat": lambda t: DataConfig(spec=npz(t / "m.npz", (30, 36))),
    "npz-flat-image-shape": lambda t: DataConfig(spec=npz(t / "m.npz", (30, 36)),
                                                 image_shape=[4, 9]),
    "npz-channel": lambda t: DataConfig(spec=npz(t / "m.npz", (30, 8, 6, 1))),
    "npz-twelve-classes": lambda t: DataConfig(spec=npz(t / "m.npz", (30, 8, 8), y_max=11)),
    "idx-dir": lambda t: DataConfig(spec=idx_dir(t, ("train", "t10k"))),
    "idx-dir-gz": lambda t: DataConfig(spec=idx_dir(t, ("train", "t10k"), gz=True)),
    "idx-dir-test-only": lambda t: DataConfig(spec=idx_dir(t, ("t10k",))),
    "idx-file": lambda t: DataConfig(spec=idx(t, "train", 30, 9, 7)),
    "idx-image-shape": lambda t: DataConfig(spec=idx(t, "train", 30, 8, 8, gz=True),
                                            image_shape=[2, 32]),
}


@pytest.mark.parametrize("make", SOURCES.values(), ids=SOURCES.keys())
def test_peek_is_the_loaded_shape(make: Callable[[Path], DataConfig], tmp_path: Path) -> None:
    cfg = make(tmp_path)
    found = peek(cfg)
    assert found is not None
    desc = load_dataset(cfg, seed=0).description
    assert found[0] == desc.image_shape
    assert found[1] in (None, desc.num_classes)
    assert (found[1] is not None) == (cfg.spec == "digits" or cfg.spec.endswith(".csv"))


def test_peek_auto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    cfg = DataConfig(spec="auto", data_dir=str(tmp_path / "tfds"))
    assert peek(cfg) == ((8, 8, 1), 10)  # the bundled digits
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    npz(tmp_path / "keras" / "datasets" / "mnist.npz", (20, 28, 28))
    assert peek(cfg) == ((28, 28, 1), None)  # Keras's cached MNIST


def test_peek_unknown_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert peek(DataConfig(spec="tfds:mnist")) is None
    assert peek(DataConfig(spec="tfds:mnist", image_shape=[28, 28])) == ((28, 28, 1), None)
    assert peek(DataConfig(spec=str(tmp_path / "missing.csv"))) is None
    assert peek(DataConfig(spec=csv(tmp_path / "odd.csv", table(5, 50)))) is None  # not square
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert peek(DataConfig(spec=str(tmp_path / "bad.npz"))) is None
    monkeypatch.setattr(peek_module, "CSV_HEAD", 100)  # a first line longer than the look
    assert peek(DataConfig(spec=csv(tmp_path / "long.csv", table(5, 64)))) is None


def run_config(tmp: Path, layers: list[str], spec: str = "digits") -> str:
    path = tmp / "small.yaml"
    path.write_text("name: small\nmodel:\n  layers:\n" + "".join(f"    - {x}\n" for x in layers)
                    + f"training: {{epochs: 1}}\ndata: {{spec: {spec}}}\n")
    return str(path)


@pytest.mark.parametrize("spec", ["digits", "csv"])
def test_kernel_too_big_refused_before_the_data(spec: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import mnist_cli.data.dataset as dataset

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data were loaded before the model was checked")

    monkeypatch.setattr(dataset, "load_dataset", never)
    monkeypatch.setattr(dataset, "load_source", never)
    if spec == "csv":
        spec = csv(tmp_path / "d.csv", table(20, 64))
    result = run_cli("train", "--config", run_config(tmp_path, BIG_KERNEL, spec),
                     "--run-dir", str(tmp_path / "run"))
    assert result.returncode == 2, result.stderr
    assert "small: model.layers[0] (Conv2D): does not fit the 8x8x1 images" in result.stderr
    assert "smaller kernel_size" in result.stderr
    assert not (tmp_path / "run").exists()


def config(layers: list[dict], spec: str = "digits") -> RunConfig:
    return parse_config({"name": "c", "model": {"layers": layers}, "data": {"spec": spec}},
                        source="c.yaml")


@pytest.mark.parametrize(("layers", "words"), [
    ([{"Flatten": {}}, {"Dense": {"units": 5}}], "outputs 5 values but the data has 10"),
    ([{"Dense": {"units": 10}}], "outputs shape (8, 8, 10) per image"),
    ([{"Reshape": {"target_shape": [28, 28, 1]}}, {"Flatten": {}}, {"Dense": {"units": 10}}],
     "model.layers[0] (Reshape): does not fit the 8x8x1 images"),
    ([{"Flatten": {}}, {"Dense": {"units": 8}}, {"Reshape": {"target_shape": [3, 3]}},
      {"Flatten": {}}, {"Dense": {"units": 10}}], "model.layers[2] (Reshape)"),
])
def test_shape_errors_name_the_layer(layers: list[dict], words: str) -> None:
    with pytest.raises(ConfigError, match="^c: ") as caught:
        check_config(config(layers), peek=True)
    assert words in caught.value.message
    check_config(config(layers))  # without the peek: the layers alone, as before


def test_unknown_shape_or_given_data_fall_back(tmp_path: Path) -> None:
    from mnist_cli.training.pipeline import prepare

    big = [{"Conv2D": {"filters": 2, "kernel_size": 10}}, {"Flatten": {}}, {"Dense": {"units": 3}}]
    check_config(config(big, spec="tfds:mnist"), peek=True)  # no shape: no refusal, no download
    data = load_dataset(DataConfig(spec=npz(tmp_path / "m.npz", (30, 12, 12))), seed=0)
    cfg = config([*big[:2], {"Dense": {"units": 10}}])  # digits in the config, 12x12 given
    assert prepare(cfg, data) is data


def test_the_check_leaves_the_seeded_weights_alone() -> None:
    from mnist_cli.data.dataset import load_run_dataset
    from mnist_cli.training.pipeline import build_in_scope, default_strategy, prepare

    layers = [{"Conv2D": {"filters": 2, "kernel_size": 3}}, {"Dropout": {"rate": 0.2}},
              {"Flatten": {}}, {"Dense": {"units": 10}}]
    weights = []
    for checked in (True, False):
        cfg = config(layers)
        cfg.training.seed = 5
        data = prepare(cfg, None if checked else load_run_dataset(cfg))
        model = build_in_scope(cfg, data, default_strategy())
        weights.append([w.numpy() if hasattr(w, "numpy") else np.asarray(w)
                        for w in model.weights])
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)

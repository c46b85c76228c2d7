"""Bad-input catalogue: one row per mistake. Each must give exit code 2 and one error line
on stderr that names the culprit (file / row / key / flag), no traceback, no run directory."""

from __future__ import annotations

import gzip
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app

PIXELS = 64  # 8x8 images keep the files tiny


def csv_rows(n: int = 12, label: str | None = None, pixel: str | None = None) -> list[str]:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        cells = [str(i % 10), *(str(v) for v in rng.integers(0, 256, PIXELS))]
        rows.append(",".join(cells))
    if label is not None:
        rows[2] = ",".join([label, *rows[2].split(",")[1:]])
    if pixel is not None:
        rows[2] = ",".join([*rows[2].split(",")[:-1], pixel])
    return rows


def write(tmp: Path, name: str, content: str | bytes) -> str:
    path = tmp / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def idx(tmp: Path, images: bytes, labels: bytes | None, gz: bool = False) -> str:
    suffix = ".gz" if gz else ""
    write(tmp, "train-labels-idx1-ubyte" + suffix, labels if labels is not None else b"")
    return write(tmp, "train-images-idx3-ubyte" + suffix, images)


def idx_images(n: int, magic: int = 0x803) -> bytes:
    return struct.pack(">IIII", magic, n, 8, 8) + bytes(n * PIXELS)


def idx_labels(n: int) -> bytes:
    return struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n))  # several classes


HEADER = ",".join(["label", *(f"pixel{i}" for i in range(PIXELS))])
GOOD_YAML = "name: t\nmodel:\n  layers:\n    - Flatten: {}\n    - Dense: {units: 10}\n"


@dataclass
class Case:
    """One row of the catalogue: `make(tmp)` returns the argv; `names` must appear in stderr."""

    id: str
    make: Callable[[Path], list[str]]
    names: tuple[str, ...]
    unset: tuple[str, ...] = ()
    """Environment variables removed for this case."""
    patch: Callable[[pytest.MonkeyPatch], None] | None = None
    """Applied before the run: makes the case independent of this machine."""


def train_data(text_or_bytes: str | bytes, name: str = "d.csv") -> Callable[[Path], list[str]]:
    return lambda tmp: ["train", "--data", write(tmp, name, text_or_bytes)]


def train_cfg(yaml_text: str) -> Callable[[Path], list[str]]:
    return lambda tmp: ["train", "-c", write(tmp, "c.yaml", yaml_text), "--data", "digits"]


def train_flags(*flags: str) -> Callable[[Path], list[str]]:
    return lambda tmp: ["train", "--data", "digits", *flags]


def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No network, on any machine: the TFDS loader's reachability probe answers no."""
    from mnist_cli.data import sources_tfds

    monkeypatch.setattr(sources_tfds, "network_reachable", lambda timeout=3.0: False)


def keras_model(tmp: Path, shape: tuple[int, ...]) -> str:
    from mnist_cli.backend import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(10)])
    path = tmp / "m.keras"
    model.save(path)
    return str(path)


CASES = [
    # CSV
    Case("csv-missing", lambda t: ["train", "--data", str(t / "missing.csv")], ("missing.csv",)),
    Case("csv-empty", train_data(""), ("d.csv", "empty")),
    Case("csv-wrong-columns", train_data("\n".join(csv_rows()[:3] + [
        ",".join(csv_rows()[3].split(",")[:-5])] + csv_rows()[4:])), ("d.csv", "line 4")),
    Case("csv-non-numeric", train_data("\n".join(csv_rows(pixel="abc"))), ("d.csv", "line 3")),
    Case("csv-pixel-range", train_data("\n".join(csv_rows(pixel="300"))), ("d.csv", "300")),
    Case("csv-label-range", train_data("\n".join(csv_rows(label="12"))), ("d.csv", "12")),
    Case("csv-label-float", train_data("\n".join(csv_rows(label="3.5"))), ("d.csv", "3.5")),
    Case("csv-ragged", train_data("\n".join(
        r if i % 2 else r + ",0,0" for i, r in enumerate(csv_rows()))), ("d.csv", "line")),
    Case("csv-binary", train_data(bytes(range(256)) * 8), ("d.csv",)),
    Case("csv-duplicate-header", train_data("\n".join(
        [HEADER, *csv_rows()[:3], HEADER, *csv_rows()[3:]])), ("d.csv", "line 5")),
    # IDX
    Case("idx-bad-magic", lambda t: ["train", "--data", idx(t, idx_images(5, 0x1234),
                                                             idx_labels(5))], ("magic",)),
    Case("idx-truncated", lambda t: ["train", "--data", idx(t, idx_images(5)[:-10],
                                                             idx_labels(5))], ("images-idx3",)),
    Case("idx-count-mismatch", lambda t: ["train", "--data", idx(t, idx_images(5),
                                                                  idx_labels(4))], ("labels",)),
    Case("idx-gz-corrupt", lambda t: ["train", "--data", idx(t, b"\x1f\x8bnot really gzip",
                                                              gzip.compress(idx_labels(5)),
                                                              gz=True)], ("gzip",)),
    # YAML
    Case("yaml-syntax", train_cfg("name: t\nmodel: [unclosed\n"), ("c.yaml", "line")),
    Case("yaml-empty", train_cfg(""), ("c.yaml", "empty")),
    Case("yaml-unknown-top-key", train_cfg(GOOD_YAML + "trainig: {}\n"),
         ("trainig", "did you mean training")),
    Case("yaml-unknown-layer", train_cfg(GOOD_YAML.replace("Dense:", "Dens:")),
         ("model.layers[1]", "Dens")),
    Case("yaml-bad-layer-arg", train_cfg(GOOD_YAML.replace("units: 10", "units: 10, bogus: 1")),
         ("model.layers[1]", "bogus")),
    Case("yaml-negative-epochs", train_cfg(GOOD_YAML + "training: {epochs: -2}\n"),
         ("training.epochs", ">= 1")),
    Case("yaml-zero-batch", train_cfg(GOOD_YAML + "training: {batch_size: 0}\n"),
         ("training.batch_size",)),
    Case("yaml-lr-zero", train_cfg(GOOD_YAML + "training: {learning_rate: 0}\n"),
         ("training.learning_rate", "> 0")),
    Case("yaml-python-tag", train_cfg("name: !!python/object:os.system {}\n" + GOOD_YAML[8:]),
         ("c.yaml", "python")),
    Case("yaml-lambda", train_cfg(GOOD_YAML.replace("Flatten: {}", "Lambda: {}")),
         ("Lambda", "not allowed")),
    Case("yaml-missing-file", lambda t: ["train", "-c", "no_such_config"],
         ("no_such_config", "shipped config")),
    # Flags
    Case("flag-validation-split", train_flags("--validation-split", "1.5"),
         ("data.validation_split", "1.5")),
    Case("flag-set-unknown-key", train_flags("--set", "training.epoks=3"),
         ("training.epoks", "did you mean epochs")),
    Case("flag-set-wrong-type", train_flags("--set", "training.epochs=many"),
         ("training.epochs", "many")),
    Case("flag-set-no-equals", train_flags("--set", "training.epochs"), ("--set", "KEY=VALUE")),
    Case("flag-unknown-optimizer", train_flags("--optimizer", "adamm"),
         ("training.optimizer", "did you mean adam")),
    Case("flag-resume-conflict", lambda t: ["train", "--resume", str(t), "--epochs", "3"],
         ("--resume", "--epochs")),
    Case("flag-resume-missing", lambda t: ["train", "--resume", str(t / "gone")],
         ("gone", "no such run directory")),
    Case("flag-unknown-data", train_flags("--data", "mnits"), ("mnits",)),
    Case("flag-unknown-strategy", train_flags("--strategy", "warp"),
         ("--strategy", "warp", "multi-worker")),
    # Models
    Case("evaluate-not-keras", lambda t: ["evaluate", write(t, "m.keras", "not a zip"),
                                          "--data", "digits"], ("m.keras",)),
    Case("evaluate-shape-mismatch", lambda t: ["evaluate", keras_model(t, (28, 28, 1)),
                                               "--data", "digits"], ("28x28x1", "8x8x1")),
    Case("evaluate-missing-run", lambda t: ["evaluate", str(t / "no_run")], ("no_run",)),
    Case("predict-missing-data", lambda t: ["predict", keras_model(t, (8, 8, 1)),
                                            "--data", str(t / "nope.csv")], ("nope.csv",)),
    Case("compare-unknown-config", lambda t: ["compare", "-c", "mlp_relu", "-c", "nosuch",
                                              "--data", "digits"], ("nosuch",)),
    Case("gradcheck-bad-config", lambda t: ["gradcheck", "-c", write(t, "c.yaml", ""),
                                            "--data", "digits"], ("c.yaml", "empty")),
    # Environment
    Case("env-tfds-offline", lambda t: ["train", "--data", "tfds:mnist", "--data-dir",
                                        str(t / "no_tfds")],
         ("'mnist'", "no_tfds", "network is unreachable"), patch=offline),
    Case("env-run-dir-not-writable", lambda t: ["train", "--data", "digits", "--run-dir",
                                                write(t, "file", "x") + "/run"],
         ("--run-dir",)),
    Case("env-tpu-missing", train_flags("--strategy", "tpu"),
         ("no TPU configured", "COLAB_TPU_ADDR"), unset=("COLAB_TPU_ADDR", "TPU_NAME")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.slow
def test_bad_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a default runs/ folder would appear here
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    for name in case.unset:
        monkeypatch.delenv(name, raising=False)
    if case.patch:
        case.patch(monkeypatch)
    before = set(os.listdir(tmp_path))
    args = case.make(tmp_path)
    created = set(os.listdir(tmp_path)) - before
    if args[0] == "train" and "--run-dir" not in args and "--resume" not in args:
        args += ["--run-dir", str(tmp_path / "run")]
    result = CliRunner().invoke(app, args)
    err = result.stderr.strip()
    assert result.exit_code == 2, (result.exit_code, err, result.exception)
    assert "Traceback" not in result.output and "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error:"), err
    for name in case.names:
        assert name in err, (name, err)
    left = set(os.listdir(tmp_path)) - before - created
    assert not left & {"runs", "run"}, f"run directory left behind: {left}"


BASELINES = {
    # The inputs the cases above break, unbroken: each is accepted, so every failure above
    # comes from its one defect and not from the way the files are written here.
    "csv": lambda t: ["data", "info", write(t, "d.csv", "\n".join(csv_rows()))],
    "csv-header": lambda t: ["data", "info", write(t, "d.csv", "\n".join([HEADER, *csv_rows()]))],
    "idx": lambda t: ["data", "info", idx(t, idx_images(5), idx_labels(5)),
                      "--validation-split", "0"],
    "idx-gz": lambda t: ["data", "info", idx(t, gzip.compress(idx_images(5)),
                                             gzip.compress(idx_labels(5)), gz=True),
                         "--validation-split", "0"],
    "yaml": lambda t: ["config", "validate", write(t, "c.yaml", GOOD_YAML)],
    "yaml-training": lambda t: ["config", "validate", write(
        t, "c.yaml", GOOD_YAML + "training: {epochs: 2, batch_size: 8, learning_rate: 0.1}\n")],
    "evaluate-shape": lambda t: ["evaluate", keras_model(t, (8, 8, 1)), "--data", "digits",
                                 "--no-plots"],
}


@pytest.mark.parametrize("make", BASELINES.values(), ids=BASELINES.keys())
@pytest.mark.slow
def test_baseline_input_is_accepted(make: Callable[[Path], list[str]], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, make(tmp_path))
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    assert "error" not in result.stderr.lower(), result.stderr

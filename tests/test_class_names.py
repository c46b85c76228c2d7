"""Class names: every source (flag list/file/fashion, config key, TFDS metadata), every place
a label is shown (evaluate tables/JSON/PNGs, predict csv/json, compare), wrong counts exit 2,
and the run-directory round trip (train with names -> evaluate/predict show them)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.schema import DataConfig
from mnist_cli.data import load_dataset, load_inputs, sources_tfds
from mnist_cli.data.class_names import FASHION_MNIST, parse_flag, resolve
from mnist_cli.errors import ConfigError, UsageError
from tests.helpers import make_pair

pytestmark = pytest.mark.timeout(300)

NAMES = ["nought", "uno", "deux", "drei", "quattro", "cinco", "seis", "sju", "acht", "nio"]


def invoke(*args: str, width: int | None = None) -> Any:
    env = {"COLUMNS": str(width)} if width else None
    return CliRunner().invoke(app, list(args), env=env)


# --- sources -------------------------------------------------------------------------------

def test_flag_forms(tmp_path: Path) -> None:
    assert parse_flag(None) is None
    assert parse_flag("Fashion") == "fashion"
    assert parse_flag(" a, b ,c") == ["a", "b", "c"]
    path = tmp_path / "names.txt"
    path.write_text("T-shirt/top\nAnkle boot, tall\n\n\n", encoding="utf-8")
    assert parse_flag(str(path)) == ["T-shirt/top", "Ankle boot, tall"]  # a file wins over ","
    path.write_text("a\n\nb\n", encoding="utf-8")
    with pytest.raises(UsageError, match="names.txt: line 2 is blank"):
        parse_flag(str(path))
    with pytest.raises(UsageError, match="--class-names .*missing.txt: no such file"):
        parse_flag(str(tmp_path / "missing.txt"))
    with pytest.raises(UsageError, match="empty name"):
        parse_flag("a,,b")


def test_config_key_validated_at_load() -> None:
    cfg = resolve_config("mlp_relu", Overrides(sets=["data.class_names=fashion"]))
    assert cfg.data.class_names == "fashion"
    cfg = resolve_config("mlp_relu", Overrides(class_names=["x", "y"]))
    assert cfg.data.class_names == ["x", "y"]
    bad = {"data.class_names=shirts": "'shirts' is not a known shorthand",
           "data.class_names=[a, a]": "duplicate names 'a'",
           "data.class_names=[1, 2]": "data.class_names: expected a list of a string",
           "data.class_names=[]": "the list is empty"}
    for item, message in bad.items():
        with pytest.raises(ConfigError, match=message):
            resolve_config("mlp_relu", Overrides(sets=[item]))


def test_fashion_shorthand_on_idx_never_guessed(tmp_path: Path) -> None:
    make_pair(tmp_path, "train", 30, gz=True)
    make_pair(tmp_path, "t10k", 10, gz=True, seed=1)
    plain = load_dataset(DataConfig(spec=str(tmp_path), validation_split=0), seed=0)
    assert plain.description.class_names is None  # same pixels, no flag: numbers only
    named = load_dataset(DataConfig(spec=str(tmp_path), validation_split=0,
                                    class_names="fashion"), seed=0)
    assert named.description.class_names == FASHION_MNIST
    assert named.description.to_dict()["class_names"][6] == "Shirt"


def test_csv_names_and_wrong_count(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = np.column_stack([np.arange(40) % 10, rng.integers(0, 256, (40, 64))])
    path = tmp_path / "train.csv"
    np.savetxt(path, rows, fmt="%d", delimiter=",")
    ds = load_dataset(DataConfig(spec=str(path), class_names=NAMES), seed=0)
    assert ds.description.class_names == NAMES
    with pytest.raises(UsageError, match=r"--class-names .*10 classes.*10 names are expected "
                                         r"but 3 were given"):
        load_dataset(DataConfig(spec=str(path), class_names=["a", "b", "c"]), seed=0)


@pytest.mark.slow
def test_tfds_metadata_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tensorflow_datasets as tfds

    monkeypatch.setattr(sources_tfds, "network_reachable", lambda timeout=3.0: True)
    with tfds.testing.mock_data(num_examples=20):
        fashion = load_dataset(DataConfig(spec="fashion_mnist", data_dir=str(tmp_path)), 0)
        digits = load_dataset(DataConfig(spec="tfds:mnist", data_dir=str(tmp_path)), 0)
        _, info = load_inputs("fashion_mnist", data_dir=str(tmp_path))
        mine = load_dataset(DataConfig(spec="fashion_mnist", data_dir=str(tmp_path),
                                       class_names=NAMES), 0)
    assert fashion.description.class_names == FASHION_MNIST == info.class_names
    assert digits.description.class_names is None  # '0'..'9' are just the numbers
    assert mine.description.class_names == NAMES  # asked-for names win over metadata


def test_resolve_rules() -> None:
    assert resolve(None, ["0", "1"], 2) is None
    assert resolve(None, ["cat", "dog"], 2) == ["cat", "dog"]
    assert resolve(None, ["cat", "dog"], 10) is None  # metadata that does not fit is dropped
    with pytest.raises(UsageError, match="2 names are expected but 10 were given"):
        resolve("fashion", None, 2)


# --- the run-directory round trip ----------------------------------------------------------

@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`train --class-names FILE` on digits, one epoch."""
    root = tmp_path_factory.mktemp("names")
    names_file = root / "names.txt"
    names_file.write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    run_dir = root / "run"
    result = invoke("train", "--data", "digits", "--epochs", "1", "--seed", "0", "-q",
                    "--no-plots", "--run-dir", str(run_dir), "--class-names", str(names_file))
    assert result.exit_code == 0, result.output
    return run_dir


@pytest.mark.slow
def test_train_records_names(run: Path) -> None:
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["data"]["class_names"] == NAMES
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["dataset"]["class_names"] == NAMES


def capture_figures(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Keep each figure written through mnist_cli.plots.figure.save_png, by file name."""
    import mnist_cli.plots.figure as plots

    figures: dict[str, Any] = {}
    real = plots.save_png

    def keep(fig: Any, path: Path) -> Path:
        figures[Path(path).name] = fig
        return real(fig, path)

    monkeypatch.setattr(plots, "save_png", keep)
    return figures


@pytest.mark.slow
def test_evaluate_shows_names(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    result = invoke("evaluate", str(run), "--json")
    assert result.exit_code == 0, result.output
    res = json.loads(result.stdout)
    assert res["class_names"] == NAMES
    assert [row["name"] for row in res["per_class"]] == NAMES
    assert [row["class"] for row in res["per_class"]] == list(range(10))  # numbers kept
    saved = json.loads((run / "evaluation.json").read_text())
    assert saved["class_names"] == NAMES and saved["per_class"][3]["name"] == "drei"
    ax = figures["confusion_matrix.png"].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
    assert [t.get_text() for t in ax.get_yticklabels()] == NAMES
    titles = [a.get_title() for a in figures["errors.png"].axes if a.get_title()]
    cm = np.asarray(res["confusion_matrix"])
    assert titles and len(titles) == min(24, int(cm.sum() - np.trace(cm)))
    for title in titles:
        true_line, pred_line, _ = title.split("\n")
        assert true_line.removeprefix("true ") in NAMES
        assert pred_line.removeprefix("pred ") in NAMES
    table = invoke("evaluate", str(run), "--no-plots", width=200)
    assert table.exit_code == 0, table.output
    for name in NAMES:  # per-class rows and confusion columns
        assert table.stdout.count(name) >= 3, name


@pytest.mark.slow
def test_predict_csv_json_kaggle(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    result = invoke("predict", str(run), "--data", "digits", "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0])[:4] == ["id", "label", "name", "probability"]
    assert all(r["name"] == NAMES[int(r["label"])] for r in rows)
    probs = np.array([[float(r[f"p{c}"]) for c in range(10)] for r in rows])
    assert (probs.argmax(axis=1) == [int(r["label"]) for r in rows]).all()
    result = invoke("predict", str(run), "--data", "digits", "--format", "json",
                    "--out", str(tmp_path / "p.json"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["class_names"] == NAMES
    doc = json.loads((tmp_path / "p.json").read_text())
    assert doc["class_names"] == NAMES
    assert all(p["name"] == NAMES[p["label"]] for p in doc["predictions"])
    kaggle = tmp_path / "k.csv"
    result = invoke("predict", str(run), "--data", "digits", "--format", "kaggle",
                    "--out", str(kaggle), "-q")
    assert result.exit_code == 0, result.output
    lines = kaggle.read_text().splitlines()
    assert lines[0] == "ImageId,Label" and all(r.split(",")[1].isdigit() for r in lines[1:])


@pytest.mark.slow
def test_bare_keras_takes_the_flag(run: Path, tmp_path: Path) -> None:
    bare = tmp_path / "alone" / "m.keras"
    bare.parent.mkdir()
    shutil.copy(run / "model.keras", bare)
    plain = invoke("evaluate", str(bare), "--data", "digits", "--json", "--no-plots")
    assert plain.exit_code == 0, plain.output
    res = json.loads(plain.stdout)
    assert "class_names" not in res and "name" not in res["per_class"][0]
    named = invoke("evaluate", str(bare), "--data", "digits", "--json", "--no-plots",
                   "--class-names", ",".join(n.upper() for n in NAMES))
    assert named.exit_code == 0, named.output
    assert json.loads(named.stdout)["per_class"][9]["name"] == "NIO"
    out = tmp_path / "f.csv"
    result = invoke("predict", str(bare), "--data", "digits", "--out", str(out), "-q",
                    "--class-names", "fashion")
    assert result.exit_code == 0, result.output
    assert {r["name"] for r in csv.DictReader(out.open())} <= set(FASHION_MNIST)


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_wrong_count_exits_2(command: str, run: Path, tmp_path: Path) -> None:
    args = {"train": ["train", "--data", "digits", "--epochs", "1", "--run-dir",
                      str(tmp_path / "never")],
            "evaluate": ["evaluate", str(run)],
            "predict": ["predict", str(run), "--data", "digits", "--out", str(tmp_path / "o")]}
    result = invoke(*args[command], "--class-names", "a,b,c")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--class-names" in lines[0]
    assert "10 names are expected but 3 were given" in lines[0]
    assert not (tmp_path / "never" / "model.keras").exists()
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_compare_records_names(tmp_path: Path) -> None:
    result = invoke("compare", "--activation", "relu", "--activation", "tanh", "--epochs", "1",
                    "--seed", "0", "--data", "digits", "--class-names", "fashion", "--json",
                    "--run-dir", str(tmp_path / "cmp"))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["dataset"]["class_names"] == FASHION_MNIST
    saved = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert saved["dataset"]["class_names"] == FASHION_MNIST
    for sub in ("relu", "tanh"):
        config = yaml.safe_load((tmp_path / "cmp" / sub / "config.yaml").read_text())
        assert config["data"]["class_names"] == FASHION_MNIST


def test_resume_refuses_the_flag(run: Path) -> None:
    result = invoke("train", "--resume", str(run), "--class-names", "fashion")
    assert result.exit_code == 2, result.output
    assert "drop --class-names" in result.stderr

"""--label-column / --pixel-max reach the loader from every command that reads data, and
`data info` / `predict` / `train` handle the CSV layouts of issue 12 section 1 end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from mnist_cli.cli.app import app

N = 60
PIXELS = [f"pixel{i}" for i in range(64)]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, rows: np.ndarray, header: list[str] | None = None) -> str:
    lines = [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(([",".join(header)] if header else []) + lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Small CSVs from real digits: labeled (header), unlabeled, optdigits (0-16, label last)."""
    tmp = tmp_path_factory.mktemp("csv")
    bunch = load_digits()
    x16, y = bunch.data[:N].astype(int), bunch.target[:N].astype(int)
    x255 = np.rint(x16 * 255 / 16).astype(int)
    gap = [[str(v) for v in r] for r in x255[:5]]
    gap[0][3] = ""
    (tmp / "gap.csv").write_text("\n".join(",".join(r) for r in gap) + "\n")
    return {
        "labeled": write(tmp / "train.csv", np.column_stack([y, x255]), ["label", *PIXELS]),
        "unlabeled": write(tmp / "test.csv", x255, PIXELS),
        "optdigits": write(tmp / "optdigits.csv", np.column_stack([x16, y])),
        "gap": str(tmp / "gap.csv"),
    }


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An untrained 8x8 model: enough for evaluate/predict to reach the data."""
    from mnist_cli.backend import import_keras

    keras = import_keras()
    net = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                            keras.layers.Dense(10)])
    path = tmp_path_factory.mktemp("model") / "m.keras"
    net.save(path)
    return str(path)


COMMANDS = {
    "train": lambda f, m: ["train", "--data", f, "--epochs", "1"],
    "compare": lambda f, m: ["compare", "--data", f, "--epochs", "1"],
    "gradcheck": lambda f, m: ["gradcheck", "--data", f],
    "data info": lambda f, m: ["data", "info", f],
    "evaluate": lambda f, m: ["evaluate", m, "--data", f],
    "predict": lambda f, m: ["predict", m, "--data", f, "--out", f + ".out.csv"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.slow
def test_every_data_command_takes_label_column(files: dict, model: str, command: str,
                                               tmp_path: Path) -> None:
    args = COMMANDS[command](files["labeled"], model)
    code, _, err = invoke(*args, "--label-column", "nosuch")
    assert code == 2, err
    assert "train.csv: --label-column 'nosuch': no such column in the header" in err
    code, _, err = invoke(*args, "--pixel-max", "100")
    assert code == 2 and "train.csv: line 2, column 5: pixel value 207 is outside 0-100; " \
        "pass the data's white level as --pixel-max" in err, err


def test_config_key_via_set_and_validation(files: dict) -> None:
    code, _, err = invoke("train", "--data", files["labeled"], "--set",
                          "data.label_column=nosuch")
    assert code == 2 and "--label-column 'nosuch': no such column" in err, err
    code, _, err = invoke("config", "show", "--set", "data.pixel_max=0")
    assert code == 2 and "data.pixel_max: must be >= 1" in err, err
    code, out, _ = invoke("config", "show", "--json", "--set", "data.label_column=last")
    assert code == 0 and json.loads(out)["data"]["label_column"] == "last"


def test_single_class_training_is_refused(files: dict, tmp_path: Path) -> None:
    code, _, err = invoke("train", "--data", files["optdigits"], "--label-column", "first",
                          "--run-dir", str(tmp_path / "run"))
    assert code == 2, err
    assert "all 60 labels are 0: is the label in another column? see --label-column" in err
    assert not (tmp_path / "run").exists()


def test_data_info_describes_an_unlabeled_file(files: dict) -> None:
    code, out, err = invoke("data", "info", files["unlabeled"], "--json")
    assert code == 0, err
    desc = json.loads(out)
    assert desc["sizes"] == {"all": N} and desc["num_classes"] == 0
    assert desc["class_counts"] == {"all": {}} and desc["image_shape"] == [8, 8, 1]
    assert any("no labels" in n and "predict" in n for n in desc["notes"])
    code, out, err = invoke("data", "info", files["unlabeled"])
    assert code == 0 and "no labels" in out + err and "all" in out


def test_data_info_shows_label_last_and_pixel_scale(files: dict) -> None:
    code, out, err = invoke("data", "info", files["optdigits"], "--json")
    assert code == 0, err
    desc = json.loads(out)
    assert "label last" in desc["source"]
    assert sum(desc["class_counts"]["train"].values()) == desc["sizes"]["train"]
    assert len(desc["class_counts"]["train"]) == 10
    assert any("0-16" in n for n in desc["notes"])


def test_predict_refuses_a_gap_instead_of_shifting_image_ids(files: dict, model: str,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "submission.csv"
    code, _, err = invoke("predict", model, "--data", files["gap"], "--format", "kaggle",
                          "--out", str(out))
    assert code == 2 and "gap.csv: line 1, column 4: empty pixel value" in err, err
    assert not out.exists()


def test_predict_prints_the_pixel_scale_note(files: dict, model: str, tmp_path: Path) -> None:
    tmp = tmp_path / "sixteen.csv"
    x16 = load_digits().data[:7].astype(int)
    write(tmp, x16, PIXELS)
    out = tmp_path / "p.csv"
    code, _, err = invoke("predict", model, "--data", str(tmp), "--out", str(out))
    assert code == 0, err
    assert "note:" in err and "0-16" in err and "--pixel-max 255" in err
    assert len(out.read_text().splitlines()) == 8


@pytest.mark.slow
def test_train_on_uci_layout_end_to_end(tmp_path: Path) -> None:
    """All 1,797 digits as UCI optdigits writes them (0-16, label last, no header)."""
    bunch = load_digits()
    path = write(tmp_path / "optdigits.csv",
                 np.column_stack([bunch.data.astype(int), bunch.target]))
    run = tmp_path / "run"
    code, out, err = invoke("train", "--data", path, "--epochs", "5", "--seed", "0",
                            "--run-dir", str(run), "--json", "--no-plots")
    assert code == 0, err
    metrics = json.loads(out)
    assert "label last" in metrics["dataset"]["source"]
    assert len(metrics["dataset"]["class_counts"]["train"]) == 10
    assert any("0-16" in n for n in metrics["dataset"]["notes"])
    assert metrics["test_accuracy"] > 0.7  # 0.84 here; read as 0-255 (--pixel-max 255): 0.40

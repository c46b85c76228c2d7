"""predict: csv / kaggle / json round trips for logits and probability models; no overwrite."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from mnist_cli.data.types import Dataset
from tests.helpers import TrainRun

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module", params=["logits", "probabilities"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        train_run: TrainRun) -> tuple[Path, Dataset, str]:
    run_dir, data = train_run(tmp_path_factory.mktemp(request.param) / "run", request.param, 3)
    return run_dir, data, request.param


def unlabelled_csv(path: Path, data: Dataset, n: int = 50) -> Path:
    """Kaggle test.csv style: header of pixel names, no label column."""
    x = data.test.x[:n].reshape(n, -1)
    header = ",".join(f"pixel{i}" for i in range(x.shape[1]))
    np.savetxt(path, x, fmt="%d", delimiter=",", header=header, comments="")
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["predict", *args])
    return result.exit_code, result.stdout, result.stderr


def test_kaggle_round_trip(run: tuple[Path, Dataset, str], tmp_path: Path) -> None:
    run_dir, data, _ = run
    src = unlabelled_csv(tmp_path / "test.csv", data)
    code, _, err = invoke(str(run_dir), "--data", str(src), "--format", "kaggle")
    assert code == 0, err
    rows = list(csv.reader((run_dir / "test-submission.csv").open()))
    assert rows[0] == ["ImageId", "Label"]
    assert len(rows) == 51
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 51))
    assert all(0 <= int(r[1]) <= 9 for r in rows[1:])


def test_csv_probabilities_sum_to_one(run: tuple[Path, Dataset, str], tmp_path: Path) -> None:
    run_dir, data, form = run
    src = unlabelled_csv(tmp_path / "images.csv", data)
    out = tmp_path / "pred.csv"
    code, stdout, err = invoke(str(run_dir), "--data", str(src), "--out", str(out), "--json")
    assert code == 0, err
    assert json.loads(stdout)["examples"] == 50
    assert json.loads(stdout)["backend"] == "tensorflow"  # the run's own backend
    rows = list(csv.DictReader(out.open()))
    probs = np.array([[float(r[f"p{c}"]) for c in range(10)] for r in rows])
    assert len(rows) == 50 and np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert (probs >= 0).all()
    labels = np.array([int(r["label"]) for r in rows])
    assert (labels == probs.argmax(axis=1)).all()
    picked = np.array([float(r["probability"]) for r in rows])
    assert np.allclose(picked, probs.max(axis=1), atol=1e-6)
    accuracy = (labels == data.test.y[:50]).mean()
    assert accuracy > 0.5, f"{form} model predictions look random ({accuracy:.2f})"


def test_json_format_and_no_overwrite(run: tuple[Path, Dataset, str], tmp_path: Path) -> None:
    run_dir, data, _ = run
    src = unlabelled_csv(tmp_path / "few.csv", data, n=7)
    out = tmp_path / "p.json"
    assert invoke(str(run_dir), "--data", str(src), "--out", str(out), "--format", "json")[0] == 0
    doc = json.loads(out.read_text())
    assert doc["backend"] == "tensorflow"
    assert [p["id"] for p in doc["predictions"]] == list(range(1, 8))
    assert all(abs(sum(p["probabilities"]) - 1) < 1e-4 for p in doc["predictions"])
    before = out.read_text()
    code, _, err = invoke(str(run_dir), "--data", str(src), "--out", str(out), "--format", "json")
    assert code == 2 and "already exists; pass --force" in err
    assert out.read_text() == before
    assert invoke(str(run_dir), "--data", str(src), "--out", str(out), "--format", "json",
                  "--force")[0] == 0


def test_bad_format_and_missing_data_exit_2(run: tuple[Path, Dataset, str]) -> None:
    run_dir = str(run[0])
    code, _, err = invoke(run_dir, "--data", "digits", "--format", "xml")
    assert code == 2 and "choose one of csv, kaggle, json" in err
    code, _, err = invoke(run_dir)
    assert code == 2 and "pass --data" in err

"""Classes absent from the evaluated labels: left out of macro averages (scikit-learn's
zero_division=nan), marked in the per-class table and evaluation.json, never counted as 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from mnist_cli.data.types import Dataset, Split
from tests.helpers import TrainRun

pytestmark = [pytest.mark.timeout(300), pytest.mark.filterwarnings(
    "error:y_pred contains classes not in y_true")]


def one_hot(pred: np.ndarray, classes: int) -> np.ndarray:
    probs = np.full((len(pred), classes), 0.01)
    probs[np.arange(len(pred)), pred] = 1.0
    return probs / probs.sum(axis=1, keepdims=True)


def sklearn_averages(y: np.ndarray, pred: np.ndarray, classes: int) -> list[float]:
    """Macro then weighted precision, recall, F1."""
    from sklearn.metrics import precision_recall_fscore_support

    return [float(v) for avg in ("macro", "weighted") for v in precision_recall_fscore_support(
        y, pred, labels=range(classes), average=avg, zero_division=np.nan)[:3]]


def our_averages(res: Any) -> list[float]:
    return [res.averages[name][k] for name in ("macro avg", "weighted avg")
            for k in ("precision", "recall", "f1-score")]


def test_perfect_predictions_without_class_3_score_1() -> None:
    """The issue's case: 4 classes, class 3 absent, every prediction right. Macro precision
    was 0.75 (class 3 counted as 0); it is 1.0, as scikit-learn's nan semantics give."""
    from mnist_cli.scoring.evaluation import score_probabilities

    y = np.array([0, 0, 1, 1, 2, 2, 2])
    res = score_probabilities(y, one_hot(y, 4), "perfect")
    assert res.averages["macro avg"]["precision"] == 1.0
    assert res.averages["macro avg"]["recall"] == 1.0
    assert res.averages["macro avg"]["f1-score"] == 1.0
    assert our_averages(res) == pytest.approx(sklearn_averages(y, y, 4))
    row = res.per_class[3]
    assert row["absent"] and row["support"] == 0
    assert row["precision"] is row["recall"] is row["f1"] is None
    assert not any(r["absent"] for r in res.per_class[:3])


def test_wrong_predictions_into_absent_class_match_sklearn() -> None:
    """Predictions of a class the data lacks are wrong: its precision is 0 and counts;
    its recall is undefined and does not. Every average equals scikit-learn's."""
    from mnist_cli.scoring.evaluation import score_probabilities

    y = np.array([0, 0, 1, 1, 2, 2, 4, 4])
    pred = np.array([0, 0, 1, 3, 2, 1, 4, 0])
    res = score_probabilities(y, one_hot(pred, 5), "mixed")
    assert our_averages(res) == pytest.approx(sklearn_averages(y, pred, 5))
    assert res.per_class[3]["absent"] and res.per_class[3]["precision"] == 0.0
    assert res.per_class[3]["recall"] is None


def test_train_score_balanced_accuracy_ignores_absent_classes() -> None:
    """train/compare's `score` has no macro average; its balanced accuracy already averages
    recall over the classes present (scikit-learn), so an absent class is not a 0 there."""
    from sklearn.metrics import balanced_accuracy_score

    from mnist_cli.scoring.metrics import score

    y = np.array([0, 0, 1, 1, 2, 2, 2])
    assert score(np.log(one_hot(y, 4)), y, "logits")["balanced_accuracy"] == 1.0
    pred = np.array([0, 3, 1, 1, 2, 2, 0])
    with pytest.warns(UserWarning, match="y_pred contains classes not in y_true"):
        want = balanced_accuracy_score(y, pred)
    got = score(np.log(one_hot(pred, 4)), y, "logits")["balanced_accuracy"]  # no warning
    assert got == pytest.approx(want) == pytest.approx((0.5 + 1 + 2 / 3) / 3)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, train_run: TrainRun) -> tuple[Path, Dataset]:
    return train_run(tmp_path_factory.mktemp("absent") / "run", epochs=3)


def no_class_3(data: Dataset, directory: Path) -> tuple[Split, Path]:
    """The run's test images without class 3, also as an .npz for the CLI."""
    keep = data.test.y != 3
    split = Split(data.test.x[keep], data.test.y[keep])
    path = directory / "no3.npz"
    np.savez(path, x_train=split.x[..., 0], y_train=split.y, x_test=split.x[..., 0],
             y_test=split.y)
    return split, path


def reject_nan(token: str) -> None:
    raise AssertionError(f"evaluation JSON holds {token}, which is not JSON")


def test_real_model_on_set_without_class_3(run: tuple[Path, Dataset], tmp_path: Path) -> None:
    """A trained model scored on data without class 3: averages equal scikit-learn's nan
    semantics, evaluation.json is valid JSON with class 3 marked, the table says absent."""
    from mnist_cli.modeling.io import load_model
    from mnist_cli.scoring.evaluation import evaluate_model

    run_dir, data = run
    split, path = no_class_3(data, tmp_path)
    res = evaluate_model(load_model(run_dir), split, "no3")
    assert our_averages(res) == pytest.approx(sklearn_averages(split.y, res.pred, 10))
    result = CliRunner().invoke(app, ["evaluate", str(run_dir), "--data", str(path), "--json",
                                      "--no-plots"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout, parse_constant=reject_nan)
    saved = json.loads((run_dir / "evaluation.json").read_text(), parse_constant=reject_nan)
    for doc in (out, saved):
        assert doc["per_class"][3]["absent"] and doc["per_class"][3]["recall"] is None
        assert doc["averages"]["macro avg"]["recall"] == pytest.approx(res.averages[
            "macro avg"]["recall"])
    table = CliRunner().invoke(app, ["evaluate", str(run_dir), "--data", str(path),
                                     "--no-plots"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "3 (absent)" in table.stdout and "undefined" in table.stdout

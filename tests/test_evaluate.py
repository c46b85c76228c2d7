"""evaluate: metrics match scikit-learn computed here; bad inputs fail clearly (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from mnist_cli.data.types import Dataset, Split
from mnist_cli.errors import DataError
from tests.helpers import TrainRun

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, train_run: TrainRun) -> tuple[Path, Dataset]:
    return train_run(tmp_path_factory.mktemp("eval") / "run")


def independent_probs(run_dir: Path, x: np.ndarray) -> np.ndarray:
    """Load the archive with plain Keras and softmax the logits with scipy."""
    import keras
    from scipy.special import softmax

    model = keras.saving.load_model(run_dir / "model.keras", compile=False)
    return softmax(np.asarray(model.predict(x.astype(np.float32) / 255.0, verbose=0)), axis=1)


def test_metrics_agree_with_sklearn(run: tuple[Path, Dataset]) -> None:
    from sklearn import metrics as skm

    from mnist_cli.modeling.io import load_model
    from mnist_cli.scoring.evaluation import evaluate_model

    run_dir, data = run
    loaded = load_model(run_dir)
    assert loaded.output_form == "logits" and loaded.image_shape == (8, 8, 1)
    res = evaluate_model(loaded, data.test, "test")
    y, probs = data.test.y, independent_probs(run_dir, data.test.x)
    pred = probs.argmax(axis=1)
    assert res.accuracy == pytest.approx(skm.accuracy_score(y, pred))
    assert res.balanced_accuracy == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert res.loss == pytest.approx(skm.log_loss(y, probs, labels=range(10)), rel=1e-4)
    assert res.confusion == skm.confusion_matrix(y, pred, labels=range(10)).tolist()
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=range(10),
                                                     zero_division=np.nan)
    for row, pi, ri, fi, si in zip(res.per_class, p, r, f, s, strict=True):
        got = [np.nan if v is None else v for v in (row["precision"], row["recall"], row["f1"])]
        assert got == pytest.approx([pi, ri, fi], nan_ok=True)
        assert row["support"] == si
    assert 0.6 < res.accuracy <= 1.0  # it really learned something in 4 epochs


# The built test set lacks some classes the model still predicts; sklearn says so, rightly.
@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_balanced_accuracy_differs_on_imbalanced_set(run: tuple[Path, Dataset]) -> None:
    from sklearn.metrics import balanced_accuracy_score, recall_score

    from mnist_cli.modeling.io import load_model
    from mnist_cli.scoring.evaluation import evaluate_model

    run_dir, data = run
    loaded = load_model(run_dir)
    recall = recall_score(data.test.y, evaluate_model(loaded, data.test).pred, average=None)
    best, worst = int(recall.argmax()), int(recall.argmin())
    assert recall[best] - recall[worst] > 0.05, "precondition: classes differ in recall"
    idx = np.concatenate([np.tile(np.flatnonzero(data.test.y == best), 20),
                          np.flatnonzero(data.test.y == worst)])
    res = evaluate_model(loaded, Split(data.test.x[idx], data.test.y[idx]), "imbalanced")
    assert res.balanced_accuracy == pytest.approx(balanced_accuracy_score(data.test.y[idx],
                                                                          res.pred))
    assert res.accuracy - res.balanced_accuracy > 0.02


def test_cli_evaluate_json_and_files(run: tuple[Path, Dataset]) -> None:
    run_dir, _ = run
    result = CliRunner().invoke(app, ["evaluate", str(run_dir), "--json"])
    assert result.exit_code == 0, result.output
    res = json.loads(result.stdout)
    assert res["source"].startswith("digits") and res["examples"] > 100
    assert len(res["per_class"]) == 10 and len(res["confusion_matrix"]) == 10
    assert sum(map(sum, res["confusion_matrix"])) == res["examples"]
    saved = json.loads((run_dir / "evaluation.json").read_text())
    assert saved["accuracy"] == res["accuracy"]
    assert res["backend"] == saved["backend"] == "tensorflow"  # the run's own backend
    for name in ("confusion_matrix.png", "errors.png"):
        assert (run_dir / name).stat().st_size > 5000


def _write_csv(path: Path, rows: np.ndarray) -> Path:
    np.savetxt(path, rows, fmt="%d", delimiter=",")
    return path


BAD_INPUTS: dict[str, tuple[Any, str]] = {
    "image shape": (lambda d: _write_csv(d / "big.csv", np.zeros((3, 785), int)),
                    "the data has 28x28x1 images (784 features) but the model expects 8x8x1"),
    "feature count": (lambda d: _write_csv(d / "narrow.csv", np.zeros((3, 61), int)),
                      "the model expects 8x8x1 images (64 features)"),
    "labels outside classes": (
        lambda d: _npz(d / "l.npz", np.zeros((4, 8, 8), np.uint8), np.array([1, 2, 12, 13])),
        "12, 13 are outside the model's classes 0..9"),
    "empty file": (lambda d: _touch(d / "empty.csv"), "empty.csv"),
    "unlabelled data": (lambda d: _write_csv(d / "nolabel.csv", np.zeros((3, 64), int)),
                        "label"),
}


def _npz(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    np.savez(path, x_train=x, y_train=y, x_test=x, y_test=y)
    return path


def _touch(path: Path) -> Path:
    path.write_text("")
    return path


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_data_exit_2(case: str, run: tuple[Path, Dataset], tmp_path: Path) -> None:
    make, message = BAD_INPUTS[case]
    path = make(tmp_path)
    result = CliRunner().invoke(app, ["evaluate", str(run[0]), "--data", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_bad_model_paths_exit_2(tmp_path: Path, run: tuple[Path, Dataset]) -> None:
    garbage = tmp_path / "bad.keras"
    garbage.write_text("not a zip")
    (tmp_path / "empty").mkdir()
    cases = {str(tmp_path / "missing"): "no such run directory or model file",
             str(tmp_path / "empty"): "no model.keras in this directory",
             str(garbage): "not a Keras model archive",
             str(run[0] / "model.keras"): None}
    for target, message in cases.items():
        result = CliRunner().invoke(app, ["evaluate", target, "--data", "nope.csv"]
                                    if message is None else ["evaluate", target])
        assert result.exit_code == 2, result.output
        if message:
            assert message in result.stderr


def test_empty_split_and_shape_checks_in_core(run: tuple[Path, Dataset]) -> None:
    from mnist_cli.modeling.io import load_model
    from mnist_cli.scoring.evaluation import check_inputs

    loaded = load_model(run[0])
    with pytest.raises(DataError, match="empty"):
        check_inputs(Split(np.zeros((0, 8, 8, 1), np.uint8), None), loaded, "x", False)
    with pytest.raises(DataError, match="10x10x1 images .100 features. but the model expects"):
        check_inputs(Split(np.zeros((2, 10, 10, 1), np.uint8), None), loaded, "x", False)
    with pytest.raises(DataError, match="no labels"):
        check_inputs(Split(np.zeros((2, 8, 8, 1), np.uint8), None), loaded, "x", True)

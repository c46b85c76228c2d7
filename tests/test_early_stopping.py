"""Early stopping: refused without validation data (it would silently never stop), and with
restore-best-weights metrics.json reports the epoch whose weights the model kept."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from mnist_cli.config import Overrides, resolve_config
from mnist_cli.errors import ConfigError

pytestmark = pytest.mark.timeout(600)

FIX_IT = ("training.early_stopping_patience", "--validation-split")


def refused(args: list[str], run_dir: Path) -> str:
    result = CliRunner().invoke(app, [*args, "--run-dir", str(run_dir)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not run_dir.exists()  # nothing trained
    return result.stderr


def test_train_refuses_early_stopping_without_validation(tmp_path: Path) -> None:
    npz = tmp_path / "t.npz"
    x = np.zeros((4, 8, 8), np.uint8)
    np.savez(npz, x_train=x, y_train=np.arange(4), x_test=x, y_test=np.arange(4))
    base = ["train", "--data", "digits", "--validation-split", "0",
            "--set", "training.early_stopping_patience=3"]
    for extra in ([], ["--test-data", str(npz)]):
        err = refused([*base, *extra], tmp_path / "run")
        assert all(s in err for s in FIX_IT), err


def test_config_validate_and_library_refuse_it(tmp_path: Path) -> None:
    path = tmp_path / "es.yaml"
    path.write_text("model: {layers: [Flatten, {Dense: {units: 10}}]}\n"
                    "training: {early_stopping_patience: 2}\ndata: {validation_split: 0}\n")
    result = CliRunner().invoke(app, ["config", "validate", str(path), "--no-build"])
    assert result.exit_code == 2 and all(s in result.stderr for s in FIX_IT), result.output

    from mnist_cli.data import load_dataset
    from mnist_cli.training import run_training

    cfg = resolve_config("mlp_relu", Overrides(data="digits", seed=0,
                                               sets=["training.early_stopping_patience=2"]))
    data = load_dataset(cfg.data, 0)
    data.validation = None  # a dataset handed in without validation data
    with pytest.raises(ConfigError, match="early_stopping_patience: 2 watches val_loss"):
        run_training(cfg, tmp_path / "lib", dataset=data)
    assert not (tmp_path / "lib").exists()


def history_rows(run_dir: Path) -> list[dict[str, float]]:
    with open(run_dir / "history.csv", newline="") as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def saved_model_val_loss(run_dir: Path, cfg) -> float:
    """Cross-entropy of model.keras on the run's validation split, computed here."""
    import keras
    from scipy.special import log_softmax

    from mnist_cli.data import load_dataset

    val = load_dataset(cfg.data, cfg.training.seed).validation
    model = keras.saving.load_model(run_dir / "model.keras", compile=False)
    logits = np.asarray(model.predict(val.x.astype(np.float32) / 255.0, verbose=0), np.float64)
    return float(-log_softmax(logits, axis=1)[np.arange(len(val)), val.y].mean())


@pytest.mark.slow
def test_restored_epoch_is_reported(tmp_path: Path) -> None:
    """Patience 2 stops this run at epoch 7 and restores epoch 5's weights: `final` holds
    epoch 5's losses (those of model.keras), `last_epoch` epoch 7's, the table says 5."""
    from mnist_cli.cli.train_cmd import summary_table
    from mnist_cli.training import run_training

    cfg = resolve_config("mlp_relu", Overrides(
        data="digits", epochs=20, seed=3, batch_size=32, learning_rate=0.05,
        sets=["training.early_stopping_patience=2"]))
    run_dir = tmp_path / "run"
    m = run_training(cfg, run_dir).metrics
    assert json.loads((run_dir / "metrics.json").read_text())["kept_epoch"] == m["kept_epoch"]
    kept, last = m["kept_epoch"], m["epochs_run"]
    assert 1 <= kept < last, "precondition: early stopping restored an earlier epoch"
    rows = history_rows(run_dir)
    assert kept == 1 + int(np.argmin([r["val_loss"] for r in rows]))
    for key, value in m["final"].items():
        assert value == pytest.approx(rows[kept - 1][key], rel=1e-5), key
        assert m["last_epoch"][key] == pytest.approx(rows[-1][key], rel=1e-5), key
    assert m["final"]["val_loss"] < m["last_epoch"]["val_loss"]
    assert saved_model_val_loss(run_dir, cfg) == pytest.approx(m["final"]["val_loss"], rel=1e-4)
    assert m["dataset"]["stratified"] is True
    console = Console(width=120, record=True)
    console.print(summary_table(m))
    text = console.export_text()
    assert f"{kept} (best val loss: early stopping restored its weights)" in text
    assert f"val loss (epoch {kept})" in text and f"{m['final']['val_loss']:.4f}" in text


@pytest.mark.slow
def test_without_restoring_the_last_epoch_is_kept(tmp_path: Path) -> None:
    from mnist_cli.training import run_training

    cfg = resolve_config("mlp_relu", Overrides(data="digits", epochs=2, seed=1))
    m = run_training(cfg, tmp_path / "run").metrics
    assert m["kept_epoch"] == m["epochs_run"] == 2 and "last_epoch" not in m
    rows = history_rows(tmp_path / "run")
    assert m["final"]["val_loss"] == pytest.approx(rows[-1]["val_loss"], rel=1e-5)

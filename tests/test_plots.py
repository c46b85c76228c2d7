"""Plots: train writes curves.png (unless --no-plots); evaluate's PNGs are real images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app

pytestmark = pytest.mark.timeout(300)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_png(path: Path, min_w: int = 400, min_h: int = 300) -> None:
    """A PNG by signature that decodes, with plausible pixel dimensions."""
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = imread(path)
    assert min_h <= image.shape[0] <= 3000 and min_w <= image.shape[1] <= 3000, image.shape
    assert image[..., :3].std() > 0.05  # not a blank canvas


@pytest.mark.slow
def test_train_writes_curves_and_no_plots_skips(tmp_path: Path) -> None:
    args = ["train", "--data", "digits", "--epochs", "2", "--seed", "0", "-q"]
    result = CliRunner().invoke(app, [*args, "--run-dir", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    check_png(tmp_path / "a" / "curves.png", 800, 300)
    result = CliRunner().invoke(app, [*args, "--run-dir", str(tmp_path / "b"), "--no-plots"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "b" / "curves.png").exists()
    # --no-plots drops only the PNG: every other artifact is written, and training is the same.
    a, b = ({p.name for p in (tmp_path / d).iterdir()} for d in "ab")
    assert "curves.png" in a and b == a - {"curves.png"}, (a, b)
    assert (tmp_path / "a" / "history.csv").read_text() == \
        (tmp_path / "b" / "history.csv").read_text()


@pytest.mark.slow
def test_plot_functions_write_valid_pngs(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    from mnist_cli.plots import write_confusion, write_curves, write_errors
    from mnist_cli.plots.errors import worst_errors

    history = {"loss": [2.0, 1.0, 0.5], "val_loss": [1.8, 1.1, 0.7],
               "accuracy": [0.3, 0.7, 0.9], "val_accuracy": [0.35, 0.65, 0.8]}
    check_png(write_curves(tmp_path / "curves.png", history), 800, 300)
    bunch = load_digits()
    x = np.rint(bunch.images[:200] * 255 / 16).astype(np.uint8)[..., None]
    y = bunch.target[:200]
    probs = np.random.default_rng(0).dirichlet(np.ones(10) * 0.3, size=200)
    idx = worst_errors(y, probs)
    conf = probs[idx, probs[idx].argmax(axis=1)]
    assert len(idx) == 24 and (np.diff(conf) <= 0).all()
    assert (probs[idx].argmax(axis=1) != y[idx]).all()
    check_png(write_errors(tmp_path / "errors.png", x, y, probs), 600, 500)
    matrix = np.bincount(y * 10 + probs.argmax(axis=1), minlength=100).reshape(10, 10)
    check_png(write_confusion(tmp_path / "cm.png", matrix.tolist()), 500, 500)


def test_errors_png_when_nothing_is_wrong(tmp_path: Path) -> None:
    from mnist_cli.plots import write_errors

    x = np.zeros((3, 8, 8, 1), np.uint8)
    y = np.array([0, 1, 2])
    probs = np.eye(10)[y]
    check_png(write_errors(tmp_path / "errors.png", x, y, probs), 100, 100)

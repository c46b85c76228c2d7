"""errors.png: the test images the model got wrong with the most confidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnist_cli.data.class_names import label_text

MAX_IMAGES = 24
COLUMNS = 6


def worst_errors(y: np.ndarray, probs: np.ndarray, limit: int = MAX_IMAGES) -> np.ndarray:
    """Indices of wrong predictions, most confident first."""
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    confidence = probs[wrong, pred[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:limit]


def error_title(true: int, pred: int, confidence: float,
                names: list[str] | None = None) -> str:
    """'true 3 / pred 5' (or the class names, a line each so long names fit) + confidence."""
    if not names:
        return f"true {true} / pred {pred}\n{confidence:.0%} sure"
    return (f"true {label_text(true, names)}\npred {label_text(pred, names)}\n"
            f"{confidence:.0%} sure")


def write_errors(path: Path, x: np.ndarray, y: np.ndarray, probs: np.ndarray,
                 title: str = "Most confident mistakes",
                 class_names: list[str] | None = None) -> Path:
    """A grid of images titled 'true T / pred P (confidence)', T and P as class names when
    given; digits drawn upright."""
    from mnist_cli.plots.figure import new_figure, save_png

    idx = worst_errors(y, probs)
    cols = max(1, min(COLUMNS, len(idx)))
    rows = max(1, -(-len(idx) // cols))
    row_height = 2.2 if class_names else 1.9  # named titles take three lines
    fig = new_figure(max(6.0, 1.7 * cols + 0.4), row_height * rows + 0.6)  # room for the title
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.set_axis_off()
    if len(idx) == 0:
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center", fontsize=14)
    for ax, i in zip(axes, idx, strict=False):
        pred = int(probs[i].argmax())
        ax.imshow(x[i, :, :, 0], cmap="gray_r", origin="upper", interpolation="nearest")
        ax.set_title(error_title(int(y[i]), pred, float(probs[i, pred]), class_names),
                     fontsize=9 if not class_names else 8, color="firebrick")
    fig.suptitle(f"{title} ({len(idx)} shown, of {int((probs.argmax(axis=1) != y).sum())})")
    return save_png(fig, path)

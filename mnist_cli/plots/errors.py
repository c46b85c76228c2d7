"""errors.png: the test images the model got wrong with the most confidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_IMAGES = 24
COLUMNS = 6


def worst_errors(y: np.ndarray, probs: np.ndarray, limit: int = MAX_IMAGES) -> np.ndarray:
    """Indices of wrong predictions, most confident first."""
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    confidence = probs[wrong, pred[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:limit]


def write_errors(path: Path, x: np.ndarray, y: np.ndarray, probs: np.ndarray,
                 title: str = "Most confident mistakes") -> Path:
    """A grid of images titled 'true T / pred P (confidence)'; digits drawn upright."""
    from mnist_cli.plots.figure import new_figure, save_png

    idx = worst_errors(y, probs)
    cols = max(1, min(COLUMNS, len(idx)))
    rows = max(1, -(-len(idx) // cols))
    fig = new_figure(max(6.0, 1.7 * cols + 0.4), 1.9 * rows + 0.6)  # room for the title
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.set_axis_off()
    if len(idx) == 0:
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center", fontsize=14)
    for ax, i in zip(axes, idx, strict=False):
        pred = int(probs[i].argmax())
        ax.imshow(x[i, :, :, 0], cmap="gray_r", origin="upper", interpolation="nearest")
        ax.set_title(f"true {int(y[i])} / pred {pred}\n{probs[i, pred]:.0%} sure", fontsize=9,
                     color="firebrick")
    fig.suptitle(f"{title} ({len(idx)} shown, of {int((probs.argmax(axis=1) != y).sum())})")
    return save_png(fig, path)

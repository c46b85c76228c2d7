"""confusion_matrix.png: counts, coloured by the share of each true class."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _annotate(ax: object, counts: np.ndarray, share: np.ndarray) -> None:
    """Write each count in its cell, white on dark cells so it stays readable."""
    small = counts.shape[0] > 12
    for (i, j), n in np.ndenumerate(counts):
        if n or i == j:
            ax.text(j, i, f"{n}", ha="center", va="center", fontsize=6 if small else 9,
                    color="white" if share[i, j] > 0.5 else "black")


def write_confusion(path: Path, confusion: list[list[int]], title: str = "Confusion matrix",
                    labels: list[str] | None = None) -> Path:
    """Rows are true classes, columns predictions; colour is the row-normalised share.
    `labels`: the axis names of classes 0..k-1 (e.g. class names), else the numbers."""
    from mnist_cli.plots.figure import new_figure, save_png

    counts = np.asarray(confusion, dtype=np.int64)
    totals = counts.sum(axis=1, keepdims=True)
    share = counts / np.where(totals == 0, 1, totals)
    k = counts.shape[0]
    names = labels or [str(c) for c in range(k)]
    fig = new_figure(max(6.0, 0.55 * k + 2), max(5.0, 0.5 * k + 1.5))
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    _annotate(ax, counts, share)
    wide = max(len(n) for n in names) > 2  # class names: slant them so they do not overlap
    ax.set_xticks(range(k), names, rotation=40 if wide else 0, ha="right" if wide else "center",
                  rotation_mode="anchor")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class" if labels else "predicted label")
    ax.set_ylabel("true class" if labels else "true label")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="share of true class")
    return save_png(fig, path)

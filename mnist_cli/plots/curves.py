"""curves.png: loss and accuracy per epoch, training vs validation."""

from __future__ import annotations

from pathlib import Path

from mnist_cli.errors import RunFailed


def _panel(ax: object, history: dict[str, list[float]], key: str, title: str) -> None:
    """One metric: the training line and, when logged, the validation line."""
    for name, label, style in ((key, "training", "o-"), (f"val_{key}", "validation", "s--")):
        values = history.get(name)
        if values:
            ax.plot(range(1, len(values) + 1), values, style, label=label, markersize=4)
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.xaxis.get_major_locator().set_params(integer=True)


def write_curves(path: Path, history: dict[str, list[float]], title: str = "") -> Path:
    """Two panels side by side (loss, accuracy) so over-fitting shows at a glance."""
    from mnist_cli.plots.figure import new_figure, save_png

    if not history.get("loss"):
        raise RunFailed("no training history to plot (the run logged no epochs)")
    fig = new_figure(10, 4)
    loss_ax, acc_ax = fig.subplots(1, 2)
    _panel(loss_ax, history, "loss", "Loss per epoch")
    if history.get("accuracy"):
        _panel(acc_ax, history, "accuracy", "Accuracy per epoch")
    else:
        acc_ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return save_png(fig, path)

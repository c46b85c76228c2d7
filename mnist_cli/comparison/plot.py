"""comparison.png: every variant's learning curves on one figure, plus test accuracy bars
with t-based 95% confidence intervals (ranked on validation accuracy, as in the table)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_cli.comparison.types import ComparisonRuns
from mnist_cli.runs.artifacts import atomic_write


def _pyplot() -> Any:
    """matplotlib, imported lazily with the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(ax: Any, comp: ComparisonRuns, colors: dict[str, Any]) -> None:
    """Train loss solid, validation loss dashed; one colour per variant, every seed drawn."""
    for v in comp.variants:
        for i, run in enumerate(comp.runs_of(v.name)):
            label = v.name if run.status == "completed" else f"{v.name} (failed)"
            for key, style in (("loss", "-"), ("val_loss", "--")):
                values = run.history.get(key)
                if not values:
                    continue
                epochs = range(1, len(values) + 1)
                tag = label if i == 0 and key == "loss" else None
                ax.plot(epochs, values, style, color=colors[v.name], label=tag, alpha=0.85)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Learning curves (solid: train loss, dashed: validation loss)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


def plot_bars(ax: Any, summary: dict[str, Any], colors: dict[str, Any]) -> None:
    """Mean test accuracy per variant in ranking order; error bars are the t-based 95%
    confidence interval of the mean (none with one seed: there is no spread to show)."""
    entries = summary["variants"]
    names = [e["name"] for e in entries]
    means = [e["test_accuracy"] or 0.0 for e in entries]
    cis = [e["test_accuracy_ci95"] for e in entries]
    low = [m - ci[0] if ci else 0.0 for m, ci in zip(means, cis, strict=True)]
    high = [ci[1] - m if ci else 0.0 for m, ci in zip(means, cis, strict=True)]
    x = range(len(entries))
    ax.bar(x, means, yerr=[low, high], capsize=6, color=[colors[n] for n in names])
    for i, e in enumerate(entries):  # labels inside the axes: a wide interval leaves them
        failed = e["status"] != "completed"
        ax.text(i + 0.05, min(means[i], 1.0) + 0.01, "FAILED" if failed else f"{means[i]:.3f}",
                ha="left", va="bottom", fontsize="small", color="red" if failed else "black")
    ax.set_xticks(list(x), names, rotation=20, ha="right")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("test accuracy")
    n = summary["repeats"]
    bars = f"error bars: t-based 95% CI of the mean, {n} seeds" if n > 1 else "1 seed: no interval"
    ranked = "validation" if summary["ranked_by"] == "val_accuracy" else "test"
    ax.set_title(f"Test accuracy, ranked on {ranked} accuracy\n({bars})")
    ax.grid(axis="y", alpha=0.3)


def plot_comparison(comp: ComparisonRuns, path: str | Path) -> Path:
    """Draw both panels side by side and save the PNG atomically."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab10")
    colors = {v.name: cmap(i % 10) for i, v in enumerate(comp.variants)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), layout="constrained")
    try:
        plot_curves(left, comp, colors)
        plot_bars(right, comp.summary, colors)
        metric = "validation" if comp.summary["ranked_by"] == "val_accuracy" else "test"
        fig.suptitle(f"mnist-cli compare — best on {metric} accuracy: "
                     f"{comp.summary['winner'] or 'none'}")
        return atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    finally:
        plt.close(fig)

"""PNG plots for run directories, drawn headless with matplotlib's Agg backend.

matplotlib is imported only inside these functions (it costs ~0.5 s), and figures are built
with `matplotlib.figure.Figure` directly so no GUI backend or global pyplot state is touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_cli.artifacts import atomic_write

DPI = 100


def new_figure(width: float, height: float) -> Any:
    """A Figure on an Agg canvas (works without a display, e.g. in CI)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Any, path: Path) -> Path:
    """Write the figure atomically as PNG."""
    return atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))


from mnist_cli.plots.confusion import write_confusion  # noqa: E402
from mnist_cli.plots.curves import write_curves  # noqa: E402
from mnist_cli.plots.errors import write_errors  # noqa: E402

__all__ = ["new_figure", "save_png", "write_confusion", "write_curves", "write_errors"]

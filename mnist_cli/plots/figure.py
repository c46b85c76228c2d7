"""The Agg figure and the atomic PNG writer every plot module draws with.

Its own module (not the package `__init__`) so the plot modules can import it while the
package re-exports them, without an import cycle.
matplotlib is imported only inside these functions (it costs ~0.5 s), and figures are built
with `matplotlib.figure.Figure` directly so no GUI backend or global pyplot state is touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_cli.runs.artifacts import atomic_write

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

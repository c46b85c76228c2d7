"""PNG plots for run directories, drawn headless with matplotlib's Agg backend.

Re-exports the writers; the shared figure helpers live in `mnist_cli.plots.figure`, which
the plot modules import directly (so this package never imports itself through them).
"""

from __future__ import annotations

from mnist_cli.plots.confusion import write_confusion
from mnist_cli.plots.curves import write_curves
from mnist_cli.plots.errors import write_errors
from mnist_cli.plots.figure import DPI, new_figure, save_png

__all__ = ["DPI", "new_figure", "save_png", "write_confusion", "write_curves", "write_errors"]

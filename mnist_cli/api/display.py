"""`progress=True`: the CLI's rich progress bars and status lines, on stderr (rich also
renders them in Jupyter). With progress=False the API prints nothing."""

from __future__ import annotations

from typing import Any

from mnist_cli.flows import Notify, silent


class Display:
    """Progress bars and status lines for one API call, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = bool(enabled)
        self.progress: Any = None
        if self.enabled:
            from mnist_cli.cli.progress import make_progress

            self.progress = make_progress()

    @property
    def notify(self) -> Notify:
        if not self.enabled:
            return silent
        from mnist_cli.cli.console import err

        return err.print

    def callbacks(self, label: str) -> list[Any]:
        """Keras callbacks driving the training bars for `label`."""
        if not self.enabled:
            return []
        from mnist_cli.cli.progress import progress_callback

        return [progress_callback(self.progress, label)]

"""A `mnist-cli` process starts training sooner: Keras's optional imports are deferred, then
prefetched in a thread while XLA compiles.

`import keras` (which `import tensorflow` does too) imports scikit-learn, pandas and
matplotlib only to offer its scikit-learn wrappers, pandas slicing and image galleries,
none of which mnist-cli calls: ~0.9 s of a 2.1 s Keras-on-JAX import. A CLI process hides
them while Keras imports, so Keras takes them for absent, and a daemon thread then imports
what the run itself needs later (scikit-learn's metrics, matplotlib's Agg canvas). That
thread mostly holds the GIL while the main thread mostly does not (XLA compiles the
initializers and the training loop, then runs it), so on two cores the imports cost the
run little. Only the CLI does this (`enable`, from its entry point): in a notebook or any
other caller of the library, Keras keeps its wrappers, since the process is not ours.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Iterator

OPTIONAL = ("sklearn", "pandas", "matplotlib")
"""Imported by Keras (and so by TensorFlow) only for features mnist-cli does not use."""
LATER = ("sklearn.metrics", "matplotlib.figure", "matplotlib.backends.backend_agg")
"""What a run imports after training (scores, plots): fetched in the background."""
_enabled = False
_prefetching: threading.Thread | None = None


def enable() -> None:
    """Called by the console script: this process is mnist-cli's own."""
    global _enabled
    _enabled = True


@contextlib.contextmanager
def optional_deferred() -> Iterator[None]:
    """While Keras imports: `import sklearn` / `pandas` / `matplotlib` fail (ImportError,
    which Keras catches), unless this is not a CLI process or one is already imported."""
    hidden = [m for m in OPTIONAL if m not in sys.modules] if _enabled else []
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


def prefetch() -> threading.Thread | None:
    """Import LATER in a daemon thread, once (CLI processes only); a failure is left for
    the main thread's own import to report."""
    global _prefetching
    if _enabled and _prefetching is None:
        _prefetching = threading.Thread(target=_import_all, args=(LATER,), name="prefetch",
                                        daemon=True)
        _prefetching.start()
    return _prefetching


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)

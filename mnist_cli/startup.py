"""A `mnist-cli` process on JAX starts training sooner: Keras's optional imports are deferred
and prefetched in a thread while XLA compiles.

`import keras` imports scikit-learn, pandas and matplotlib only to offer its scikit-learn
wrappers, pandas slicing and image galleries, none of which mnist-cli calls: ~0.9 s of a
2.1 s Keras-on-JAX import. A CLI process on JAX hides them while Keras imports, so Keras
takes them for absent, and right after it a daemon thread imports what a run needs of them
(scikit-learn's metrics, matplotlib's Agg canvas) while the main thread loads the data and
mostly waits on XLA compiling the initializers and the training loop; the first epoch ends by
waiting for it (`settle`), so no later epoch shares the CPU with it.

Not on TensorFlow: its first epoch traces Python, which needs the GIL, and deferring alone
only moves the same imports into the data and plots phases (quick start measured: imports
3.06 -> 2.10 s, data 0.06 -> 0.81 s, plots 0.15 -> 0.35 s). Only the CLI does this
(`enable`, from its entry point): in a notebook or any other caller of the library, Keras
keeps its wrappers, since the process is not ours.

Measured (MLP, 8,000 MNIST images x 10 epochs, JAX, empty compilation cache, medians of 3,
2 cores, interleaved): prefetch from the model's build 3.84 s, from Keras's import 3.66 s
(warm cache: 3.09 s and 3.12 s); without it ~0.3 s more. Letting the prefetch run on into
the later epochs saved ~0.15 s more but cut their measured speed by a quarter.
"""

from __future__ import annotations

import contextlib
import importlib
import threading

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


def deferred(backend: str) -> tuple[str, ...]:
    """What `import keras` on `backend` should take for absent (`compat.import_hiding`):
    OPTIONAL in a CLI process on JAX, else nothing."""
    return OPTIONAL if _enabled and backend == "jax" else ()


def prefetch() -> threading.Thread | None:
    """Import LATER in a daemon thread, once (CLI processes only); a failure is left for
    the main thread's own import to report."""
    global _prefetching
    if _enabled and _prefetching is None:
        _prefetching = threading.Thread(target=_import_all, args=(LATER,), name="prefetch",
                                        daemon=True)
        _prefetching.start()
    return _prefetching


def settle() -> None:
    """Wait for the prefetch to finish: called after the first epoch, so the imports overlap
    the build and the first epoch's compilation but never slow the epochs after it."""
    if _prefetching is not None:
        _prefetching.join()


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)

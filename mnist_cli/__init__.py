"""mnist-cli: train, compare and sanity-check small Keras classifiers on MNIST-style data.

The Python API mirrors the commands (see the docs' "Python API" page)::

    from mnist_cli import train, evaluate, predict, compare, gradcheck, export, load_run, tune, log

Importing this package stays cheap: the API module loads on first use (PEP 562) and
TensorFlow only when a function needs it.
"""

from __future__ import annotations

from typing import Any

from mnist_cli.version import __version__

API = ("train", "evaluate", "predict", "compare", "gradcheck", "export", "tune", "log",
       "load_run")

__all__ = ["__version__", *API]


def __getattr__(name: str) -> Any:
    if name not in API:
        raise AttributeError(f"module 'mnist_cli' has no attribute {name!r}")
    from mnist_cli import api

    value = getattr(api, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *API})

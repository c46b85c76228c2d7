"""mnist-cli: train, compare and sanity-check small Keras classifiers on MNIST-style data.

The Python API mirrors the commands (see README "Python API")::

    from mnist_cli import train, evaluate, predict, compare, gradcheck, load_run

Importing this package stays cheap: the API module loads on first use and TensorFlow only
when a function needs it.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from mnist_cli.version import __version__

API = ("train", "evaluate", "predict", "compare", "gradcheck", "load_run")
# These API names are also submodules (mnist_cli/train/, evaluate.py, ...).
SHADOWED = {"train", "evaluate", "predict", "compare", "gradcheck"}

__all__ = ["__version__", *API]


class _Package(types.ModuleType):
    """Keeps `mnist_cli.train` etc. the API functions after their same-named submodules are
    imported (the import system would otherwise overwrite the attribute with the module)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in SHADOWED and isinstance(value, types.ModuleType):
            return  # the submodule stays reachable through sys.modules and the API object
        super().__setattr__(name, value)


def __getattr__(name: str) -> Any:
    """Load the API on first use (PEP 562)."""
    if name not in API:
        raise AttributeError(f"module 'mnist_cli' has no attribute {name!r}")
    from mnist_cli import api

    value = getattr(api, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *API})


sys.modules[__name__].__class__ = _Package

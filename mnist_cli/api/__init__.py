"""The Python API: the commands as functions (`from mnist_cli import train, ...`).

The names are also submodules of mnist_cli (`mnist_cli.train` is a package), so each API
function is wrapped in a `Command` that answers attribute lookups it cannot for the
submodule: `mnist_cli.train.fit` keeps meaning the module.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from mnist_cli.api import commands
from mnist_cli.api.results import Comparison, Evaluation, Prediction, Run
from mnist_cli.api.results import load_run as load_run
from mnist_cli.errors import ConfigError, DataError, MnistCliError, RunFailed, UsageError


class Command:
    """An API function that also stands for the same-named submodule of mnist_cli: public
    attribute reads, writes and deletes (and `__dict__`, which pytest's monkeypatch reads)
    go to the submodule, so `mnist_cli.train.fit` and patching `mnist_cli.evaluate.X` work."""

    def __init__(self, func: Callable[..., Any], module: str) -> None:
        object.__setattr__(self, "_module", module)
        functools.update_wrapper(self, func, updated=())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs)

    def _target(self) -> Any:
        return importlib.import_module(self._module)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._target(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._target(), name, value)

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            delattr(self._target(), name)

    @property  # type: ignore[misc]
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        return vars(self._target())

    def __repr__(self) -> str:
        return f"<mnist_cli.{self.__name__}: API function, see help(mnist_cli.api.commands)>"

    @property
    def __signature__(self) -> Any:
        import inspect

        return inspect.signature(self.__wrapped__)


train = Command(commands.train, "mnist_cli.train")
evaluate = Command(commands.evaluate, "mnist_cli.evaluate")
predict = Command(commands.predict, "mnist_cli.predict")
compare = Command(commands.compare, "mnist_cli.compare")
gradcheck = Command(commands.gradcheck, "mnist_cli.gradcheck")

__all__ = ["Command", "Comparison", "ConfigError", "DataError", "Evaluation", "MnistCliError",
           "Prediction", "Run", "RunFailed", "UsageError", "compare", "evaluate", "gradcheck",
           "load_run", "predict", "train"]

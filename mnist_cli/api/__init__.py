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
    """An API function that also stands for the same-named submodule of mnist_cli."""

    def __init__(self, func: Callable[..., Any], module: str) -> None:
        functools.update_wrapper(self, func)
        self._module = module

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(importlib.import_module(self._module), name)

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

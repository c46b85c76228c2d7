"""The Python API: the commands as functions (`from mnist_cli import train, ...`)."""

from __future__ import annotations

from mnist_cli.api import commands
from mnist_cli.api.results import Comparison, Evaluation, Prediction, Run
from mnist_cli.api.results import load_run as load_run
from mnist_cli.errors import ConfigError, DataError, MnistCliError, RunFailed, UsageError
from mnist_cli.tuning import tune as tune

train = commands.train
evaluate = commands.evaluate
predict = commands.predict
compare = commands.compare
gradcheck = commands.gradcheck
__all__ = ["Comparison", "ConfigError", "DataError", "Evaluation", "MnistCliError",
           "Prediction", "Run", "RunFailed", "UsageError", "compare", "evaluate", "gradcheck",
           "load_run", "predict", "train", "tune"]

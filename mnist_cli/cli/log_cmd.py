"""`mnist-cli log`: upload (or complete) a finished run, comparison or study to MLflow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mnist_cli import api
from mnist_cli.cli import console
from mnist_cli.cli.options import JsonOpt, MlflowExperimentOpt, MlflowOpt, QuietOpt

LogDirArg = Annotated[Path, typer.Argument(
    metavar="RUN_DIR", help="A directory train, compare or tune wrote.")]


def log(
    run_dir: LogDirArg,
    mlflow: MlflowOpt = None,
    mlflow_experiment: MlflowExperimentOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Log a finished run, compare or tune directory to MLflow; again: nothing doubled."""
    ui = console.start(quiet=quiet, json_out=json_out)
    result = api.log(run_dir, mlflow=mlflow, mlflow_experiment=mlflow_experiment, progress=ui)
    if json_out:
        console.print_json({"kind": result.kind, "run_id": result.run_id, "link": result.link})

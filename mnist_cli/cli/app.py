"""The `mnist-cli` command tree. Commands are registered here; each lives in its own module."""

from __future__ import annotations

import typer

from mnist_cli import __version__
from mnist_cli.cli import config_cmd, data_cmd
from mnist_cli.cli.compare_cmd import compare
from mnist_cli.cli.console import guarded
from mnist_cli.cli.env_cmd import env
from mnist_cli.cli.evaluate_cmd import evaluate
from mnist_cli.cli.export_cmd import export
from mnist_cli.cli.gradcheck_cmd import gradcheck
from mnist_cli.cli.predict_cmd import predict
from mnist_cli.cli.train_cmd import train

app = typer.Typer(
    name="mnist-cli",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="Train, compare and sanity-check small Keras classifiers on MNIST-style data.",
)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"mnist-cli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Train, compare and sanity-check small Keras classifiers on MNIST-style data."""


app.command(no_args_is_help=False)(guarded(train))
app.command(no_args_is_help=True)(guarded(evaluate))
app.command(no_args_is_help=True)(guarded(predict))
app.command(no_args_is_help=False)(guarded(compare))
app.command(no_args_is_help=False)(guarded(gradcheck))
app.command(no_args_is_help=False)(guarded(env))
app.command(no_args_is_help=True)(guarded(export))
app.add_typer(config_cmd.app, name="config")
app.add_typer(data_cmd.app, name="data")


def main() -> None:
    app()

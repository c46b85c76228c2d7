"""Flags shared by several commands, declared once as `Annotated` aliases (the typer way):
a command lists the ones it takes as parameters named like the API's keywords, so flag,
parameter and keyword are one name. Values that have a fixed set of choices complete in the
shell (`mnist-cli --install-completion`).
"""

from __future__ import annotations

import glob
import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from mnist_cli.distribute import CrossDeviceOps
from mnist_cli.distribute import choices as strategy_choices


def completes(values: Callable[[], Iterable[str]] | str) -> Callable[[str], list[str]]:
    """A typer `autocompletion` offering the `values()` (or the tuple named `module:NAME`,
    imported only when completing) that start with what was typed."""

    def complete(incomplete: str) -> list[str]:
        if isinstance(values, str):
            module, _, name = values.partition(":")
            found = getattr(importlib.import_module(module), name)
        else:
            found = values()
        return [v for v in found if v.startswith(incomplete)]

    return complete


def complete_config(incomplete: str) -> list[str]:
    """--config: the shipped names, then the *.yaml / *.yml files that start with what was
    typed (with nothing offered, bash falls back to its own file and folder completion)."""
    from mnist_cli.config.load import shipped_configs

    names = [n for n in shipped_configs() if n.startswith(incomplete)]
    paths = sorted(glob.glob(glob.escape(incomplete) + "*"))
    return names + [p for p in paths if p.endswith((".yaml", ".yml")) and Path(p).is_file()]


LABEL_COLUMNS = ("auto", "first", "last")  # or a CSV header name
CLASS_NAME_SETS = ("fashion",)  # or a,b,c or a FILE


def bare_flags(params: list[Any]) -> list[Any]:
    """On/off flags show no `<bool>` type in --help (typer's own --help, --version and
    completion flags included): a flag takes no value."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A command whose --help shows flags without a value type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return bare_flags(super().get_params(ctx))


class Group(TyperGroup):
    """A command group whose --help shows flags without a value type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return bare_flags(super().get_params(ctx))


# Help panels: `--help` groups the options under these headings.
MODEL = "Model & training"
DATA = "Data"
OUTPUT = "Output"
DISTRIBUTION = "Distribution"

ConfigOpt = Annotated[str | None, typer.Option(
    "--config", "-c", metavar="NAME|FILE", rich_help_panel=MODEL,
    autocompletion=complete_config, help="mlp_relu, mlp_softmax, cnn or a YAML file.")]
ActivationOpt = Annotated[str | None, typer.Option(
    metavar="NAME", rich_help_panel=MODEL,
    help="Hidden-layer activation.")]
EpochsOpt = Annotated[int | None, typer.Option(
    metavar="N", rich_help_panel=MODEL, help="Training epochs.")]
BatchOpt = Annotated[int | None, typer.Option(
    "--batch-size", metavar="N", rich_help_panel=MODEL, help="Batch size per replica.")]
OptimizerOpt = Annotated[str | None, typer.Option(
    metavar="NAME", rich_help_panel=MODEL, help="adam, sgd, rmsprop, ...")]
LrOpt = Annotated[float | None, typer.Option(
    "--learning-rate", metavar="X", rich_help_panel=MODEL, help="Learning rate.")]
SeedOpt = Annotated[int | None, typer.Option(
    metavar="N", rich_help_panel=MODEL, help="Random seed (recorded).")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE", rich_help_panel=MODEL,
    help="Config override (repeatable).")]
DataOpt = Annotated[str | None, typer.Option(
    "--data", metavar="SPEC", rich_help_panel=DATA,
    help="auto, digits, mnist, tfds:NAME, or a file.")]
TestDataOpt = Annotated[str | None, typer.Option(
    "--test-data", metavar="SPEC", rich_help_panel=DATA,
    help="Separate test data (same forms as --data).")]
ValSplitOpt = Annotated[float | None, typer.Option(
    "--validation-split", metavar="F", rich_help_panel=DATA,
    help="Held-out validation share, in [0, 1).")]
ImageShapeOpt = Annotated[tuple[int, int] | None, typer.Option(
    "--image-shape", metavar="H W", rich_help_panel=DATA,
    help="Image size if not square, e.g. 28 28.")]
DataDirOpt = Annotated[str | None, typer.Option(
    "--data-dir", metavar="DIR", rich_help_panel=DATA,
    help="TensorFlow Datasets data directory.")]
RunDirOpt = Annotated[Path | None, typer.Option(
    "--run-dir", metavar="DIR", rich_help_panel=OUTPUT,
    help="New run directory (default: under runs/).")]
ResumeOpt = Annotated[Path | None, typer.Option(
    "--resume", metavar="RUN_DIR", rich_help_panel=MODEL,
    help="Continue an interrupted run.")]
DeterministicOpt = Annotated[bool | None, typer.Option(
    "--deterministic/--no-deterministic", metavar="", rich_help_panel=MODEL,
    show_default=False, help="Same seed, same weights (default on).")]
JsonOpt = Annotated[bool, typer.Option(
    "--json", metavar="", rich_help_panel=OUTPUT,
    help="Print one JSON object on stdout only.")]
QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", metavar="", rich_help_panel=OUTPUT, help="Print only errors.")]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", metavar="", rich_help_panel=OUTPUT,
    help="Show TensorFlow logs, phase timings and full tracebacks.")]
NoPlotsOpt = Annotated[bool, typer.Option(
    "--no-plots", metavar="", rich_help_panel=OUTPUT, help="Do not draw PNG plots.")]
ProgressOpt = Annotated[str, typer.Option(
    "--progress", metavar="MODE", rich_help_panel=OUTPUT, show_default=False,
    autocompletion=completes("mnist_cli.display:MODES"),
    help="auto, bar, plain (log lines) or none.")]
FailUnderOpt = Annotated[list[str] | None, typer.Option(
    "--fail-under", metavar="METRIC=VALUE", rich_help_panel=OUTPUT,
    help="Exit 1 if METRIC < VALUE (repeatable).")]
StrategyOpt = Annotated[str, typer.Option(
    "--strategy", metavar="NAME", rich_help_panel=DISTRIBUTION, show_default=False,
    autocompletion=completes(strategy_choices), help=", ".join(strategy_choices()) + ".")]
DeviceOpt = Annotated[list[str] | None, typer.Option(
    "--device", metavar="DEV", rich_help_panel=DISTRIBUTION,
    help="Device(s), e.g. /gpu:0 (repeatable).")]
CrossOpsOpt = Annotated[CrossDeviceOps, typer.Option(
    "--cross-device-ops", metavar="NAME", rich_help_panel=DISTRIBUTION, show_default=False,
    help="auto, nccl, hierarchical-copy, reduce-to-one.")]
WorkerOpt = Annotated[list[str] | None, typer.Option(
    "--worker", metavar="HOST:PORT", rich_help_panel=DISTRIBUTION,
    help="Each worker, in order (repeatable).")]
TaskIndexOpt = Annotated[int | None, typer.Option(
    "--task-index", metavar="I", rich_help_panel=DISTRIBUTION,
    help="This process's place in --worker.")]
ConnectTimeoutOpt = Annotated[float, typer.Option(
    "--connect-timeout", min=0, metavar="SEC", rich_help_panel=DISTRIBUTION,
    show_default=False, help="Wait for peers or a TPU (60).")]
TpuOpt = Annotated[str | None, typer.Option(
    "--tpu", metavar="NAME|URL", rich_help_panel=DISTRIBUTION,
    help="TPU name or grpc://HOST:PORT.")]

# CSV layout and pixel scale (data.label_column, data.pixel_max); see docs/data.md, "CSV files".
LabelColumnOpt = Annotated[str | None, typer.Option(
    "--label-column", metavar="COL", rich_help_panel=DATA,
    autocompletion=completes(lambda: LABEL_COLUMNS), help="CSV label: auto|first|last|NAME.")]
PixelMaxOpt = Annotated[int | None, typer.Option(
    "--pixel-max", min=1, metavar="N", rich_help_panel=DATA,
    help="White pixel value: 255, 16, 1 (default: detected).")]
ClassNamesOpt = Annotated[str | None, typer.Option(
    "--class-names", metavar="NAMES", rich_help_panel=DATA,
    autocompletion=completes(lambda: CLASS_NAME_SETS),
    help="Label names: fashion, a,b,c or a FILE.")]
NoTensorboardOpt = Annotated[bool, typer.Option(
    "--no-tensorboard", metavar="", rich_help_panel=OUTPUT,
    help="Do not write TensorBoard event files.")]
BackendOpt = Annotated[str | None, typer.Option(
    "--backend", metavar="NAME", rich_help_panel=MODEL,
    autocompletion=completes("mnist_cli.backend:BACKENDS"),
    help="Keras backend: tensorflow or jax.")]
PrecisionOpt = Annotated[str | None, typer.Option(
    "--precision", metavar="POLICY", rich_help_panel=MODEL,
    autocompletion=completes("mnist_cli.modeling.precision:PRECISIONS"),
    help="e.g. mixed_float16.")]
MlflowOpt = Annotated[str | None, typer.Option(
    "--mlflow", metavar="URI|env", rich_help_panel=OUTPUT,
    help="Log to this MLflow server.")]
MlflowExperimentOpt = Annotated[str | None, typer.Option(
    "--mlflow-experiment", metavar="NAME", rich_help_panel=OUTPUT,
    help="MLflow experiment name.")]

"""Flags shared by several commands, declared once."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from mnist_cli.cli.groups import OptionGroup
from mnist_cli.config import Overrides
from mnist_cli.distribute import CrossDeviceOps, StrategyConfig, StrategyName
from mnist_cli.distribute import choices as strategy_choices
from mnist_cli.errors import UsageError

# Help panels: `--help` groups the options under these headings.
MODEL = "Model & training"
DATA = "Data"
OUTPUT = "Output"
DISTRIBUTION = "Distribution"

ConfigOpt = Annotated[str | None, typer.Option(
    "--config", "-c", metavar="NAME|FILE", rich_help_panel=MODEL,
    help="mlp_relu, mlp_softmax, cnn or a YAML file.")]
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
    help="Show TensorFlow logs and full tracebacks.")]
NoPlotsOpt = Annotated[bool, typer.Option(
    "--no-plots", metavar="", rich_help_panel=OUTPUT, help="Do not draw PNG plots.")]
ProgressOpt = Annotated[str, typer.Option(
    "--progress", metavar="MODE", rich_help_panel=OUTPUT, show_default=False,
    help="auto, bar, plain (log lines) or none.")]
FailUnderOpt = Annotated[list[str] | None, typer.Option(
    "--fail-under", metavar="METRIC=VALUE", rich_help_panel=OUTPUT,
    help="Exit 1 if METRIC < VALUE (repeatable).")]
StrategyOpt = Annotated[str, typer.Option(
    "--strategy", metavar="NAME", rich_help_panel=DISTRIBUTION, show_default=False,
    help=", ".join(strategy_choices()) + ".")]
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


def make_overrides(
    *, activation: str | None = None, output: str | None = None, epochs: int | None = None,
    batch_size: int | None = None, optimizer: str | None = None,
    learning_rate: float | None = None, seed: int | None = None, data: str | None = None,
    test_data: str | None = None, validation_split: float | None = None,
    image_shape: tuple[int, int] | None = None, data_dir: str | None = None,
    sets: list[str] | None = None, label_column: str | None = None,
    pixel_max: int | None = None, class_names: str | None = None,
    precision: str | None = None, no_tensorboard: bool = False,
) -> Overrides:
    """Flags -> Overrides (None keeps the file's value)."""
    return Overrides(
        activation=activation, output=output, epochs=epochs, batch_size=batch_size,
        optimizer=optimizer, learning_rate=learning_rate, seed=seed, data=data,
        test_data=test_data, validation_split=validation_split,
        image_shape=list(image_shape) if image_shape else None, data_dir=data_dir,
        sets=list(sets or []), label_column=label_column, pixel_max=pixel_max,
        class_names=class_names_flag(class_names), precision=precision,
        no_tensorboard=no_tensorboard or None,
    )


def strategy_config(
    strategy: str = "auto", devices: list[str] | None = None,
    cross_device_ops: CrossDeviceOps = CrossDeviceOps.auto, workers: list[str] | None = None,
    task_index: int | None = None, connect_timeout: float = 60.0, tpu: str | None = None,
) -> StrategyConfig:
    """Strategy flags -> StrategyConfig, for `make_strategy` (train, evaluate, compare).

    `--strategy` is a plain string checked here, so a wrong name is the tool's one-line error.
    """
    try:
        name = StrategyName(strategy).value
    except ValueError:
        choices = ", ".join(n.value for n in StrategyName)
        raise UsageError(f"--strategy {strategy!r} is not a known strategy; choose one of "
                         f"{choices}") from None
    return StrategyConfig(
        name=name, devices=list(devices or []),
        cross_device_ops=CrossDeviceOps(cross_device_ops).value, workers=list(workers or []),
        task_index=task_index, connect_timeout=connect_timeout, tpu=tpu,
    )


# CSV layout and pixel scale (data.label_column, data.pixel_max); see README "CSV files".
LabelColumnOpt = Annotated[str | None, typer.Option(
    "--label-column", metavar="COL", rich_help_panel=DATA,
    help="CSV label: auto|first|last|NAME.")]
PixelMaxOpt = Annotated[int | None, typer.Option(
    "--pixel-max", min=1, metavar="N", rich_help_panel=DATA,
    help="White pixel value: 255, 16, 1 (default: detected).")]
ClassNamesOpt = Annotated[str | None, typer.Option(
    "--class-names", metavar="NAMES", rich_help_panel=DATA,
    help="Label names: fashion, a,b,c or a FILE.")]


def class_names_flag(value: str | None) -> list[str] | str | None:
    """`--class-names` -> 'fashion', a list of names (a FILE is read here), or None."""
    from mnist_cli.data.class_names import parse_flag

    return parse_flag(value)


NoTensorboardOpt = Annotated[bool, typer.Option(
    "--no-tensorboard", metavar="", rich_help_panel=OUTPUT,
    help="Do not write TensorBoard event files.")]
PrecisionOpt = Annotated[str | None, typer.Option(
    "--precision", metavar="POLICY", rich_help_panel=MODEL,
    help="e.g. mixed_float16.")]


# Option groups (issue 16): each set of shared flags is declared once, as a dataclass, and
# added to a command with `with_groups` (mnist_cli/cli/groups.py). A command that shows only
# some of a group's flags picks them: `DataOptions.pick("data", "image_shape")`.
@dataclass
class TrainingOptions(OptionGroup):
    """Training overrides shared by train, compare and config show."""

    epochs: EpochsOpt = None
    batch_size: BatchOpt = None
    optimizer: OptimizerOpt = None
    learning_rate: LrOpt = None
    seed: SeedOpt = None
    sets: SetOpt = None

    def overrides(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class DataOptions(OptionGroup):
    """Where the data comes from and how to read it (the Data panel)."""

    data: DataOpt = None
    test_data: TestDataOpt = None
    validation_split: ValSplitOpt = None
    image_shape: ImageShapeOpt = None
    data_dir: DataDirOpt = None
    label_column: LabelColumnOpt = None
    pixel_max: PixelMaxOpt = None
    class_names: ClassNamesOpt = None

    def overrides(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def shape(self) -> list[int] | None:
        """`--image-shape H W` as the list the core takes."""
        return list(self.image_shape) if self.image_shape else None

    def names(self) -> list[str] | str | None:
        """`--class-names`, a FILE read here."""
        return class_names_flag(self.class_names)


@dataclass
class OutputOptions(OptionGroup):
    """What a command prints and writes besides its result (the Output panel)."""

    json_out: JsonOpt = False
    quiet: QuietOpt = False
    verbose: VerboseOpt = False
    no_plots: NoPlotsOpt = False
    no_tensorboard: NoTensorboardOpt = False
    progress: ProgressOpt = "auto"
    fail_under: FailUnderOpt = None

    def overrides(self) -> dict[str, Any]:
        return {"no_tensorboard": self.no_tensorboard}

    @property
    def silent(self) -> bool:
        """--quiet or --json: nothing but the result (or errors) on stdout."""
        return self.quiet or self.json_out

    def apply(self) -> None:
        """Set the console's loudness and TensorFlow's logging for this command."""
        from mnist_cli.cli import console
        from mnist_cli.tfenv import set_verbose

        console.set_mode(quiet=self.silent, json_out=self.json_out)
        set_verbose(self.verbose)

    def gates(self, metrics: Any) -> list[Any]:
        """Check --progress and parse --fail-under: exit 2 before anything runs."""
        from mnist_cli.cli.progress import resolve_mode
        from mnist_cli.scoring.gates import parse_gates

        resolve_mode(self.progress)
        return parse_gates(self.fail_under, metrics)


@dataclass
class StrategyOptions(OptionGroup):
    """The distribution strategy flags of train, evaluate and compare."""

    strategy: StrategyOpt = "auto"
    device: DeviceOpt = None
    cross_device_ops: CrossOpsOpt = CrossDeviceOps.auto
    worker: WorkerOpt = None
    task_index: TaskIndexOpt = None
    connect_timeout: ConnectTimeoutOpt = 60.0
    tpu: TpuOpt = None

    def config(self) -> StrategyConfig:
        return strategy_config(self.strategy, self.device, self.cross_device_ops, self.worker,
                               self.task_index, self.connect_timeout, self.tpu)


def group_overrides(*groups: Any, **flags: Any) -> Overrides:
    """Overrides from the groups' config flags plus a command's own (`activation=...`)."""
    values: dict[str, Any] = {}
    for group in groups:
        values.update(group.overrides())
    return make_overrides(**{**values, **flags})

"""Flags shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mnist_cli.config import Overrides
from mnist_cli.errors import UsageError
from mnist_cli.strategy.config import CrossDeviceOps, StrategyConfig, StrategyName

ConfigOpt = Annotated[str | None, typer.Option(
    "--config", "-c", help="YAML config path or shipped name (mlp_relu, mlp_softmax, cnn).")]
ActivationOpt = Annotated[str | None, typer.Option(
    help="Activation for every hidden layer, e.g. relu, softmax, tanh, sigmoid.")]
EpochsOpt = Annotated[int | None, typer.Option(help="Training epochs.")]
BatchOpt = Annotated[int | None, typer.Option("--batch-size", help="Batch size per replica.")]
OptimizerOpt = Annotated[str | None, typer.Option(
    help="adam, adamw, sgd, rmsprop, adagrad, nadam.")]
LrOpt = Annotated[float | None, typer.Option("--learning-rate", help="Optimizer learning rate.")]
SeedOpt = Annotated[int | None, typer.Option(help="Random seed (recorded; random if not given).")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="Override any config key, e.g. --set training.epochs=3 (repeatable).")]
DataOpt = Annotated[str | None, typer.Option(
    "--data", help="auto, digits, mnist, fashion_mnist, tfds:NAME, or a .csv/.npz/IDX path.")]
TestDataOpt = Annotated[str | None, typer.Option(
    "--test-data", help="Separate test data (same forms as --data).")]
ValSplitOpt = Annotated[float | None, typer.Option(
    "--validation-split", help="Fraction of training data held out for validation, in [0, 1).")]
ImageShapeOpt = Annotated[tuple[int, int] | None, typer.Option(
    "--image-shape", help="Image height and width when not square-inferable, e.g. 28 28.")]
DataDirOpt = Annotated[str | None, typer.Option(
    "--data-dir", help="TensorFlow Datasets data directory.")]
RunDirOpt = Annotated[Path | None, typer.Option(
    "--run-dir", help="Where to write this run (default runs/<config>-<UTC time>); never reused.")]
ResumeOpt = Annotated[Path | None, typer.Option(
    "--resume", help="Continue an interrupted run directory from its last completed epoch, "
    "with its saved config.yaml (no config flags allowed).")]
DeterministicOpt = Annotated[bool | None, typer.Option(
    "--deterministic/--no-deterministic",
    help="Deterministic TensorFlow ops: same seed, same weights (default on; no measurable "
    "cost on CPU: 5-epoch mlp_relu/cnn runs on digits were within timing noise).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout only.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", help="Show TensorFlow's own log output.")]
NoPlotsOpt = Annotated[bool, typer.Option(
    "--no-plots", help="Do not draw PNG plots into the run directory.")]
StrategyOpt = Annotated[str, typer.Option(
    "--strategy", metavar="auto|default|one-device|mirrored|multi-worker|tpu",
    help="Distribution: auto (TPU if configured, else mirrored on >1 GPU, else "
    "default), default, one-device, mirrored, multi-worker, tpu.")]
DeviceOpt = Annotated[list[str] | None, typer.Option(
    "--device", help="Device for one-device, or devices for mirrored, e.g. /gpu:0 (repeatable).")]
CrossOpsOpt = Annotated[CrossDeviceOps, typer.Option(
    "--cross-device-ops", help="Mirrored all-reduce (nccl needs GPUs).")]
WorkerOpt = Annotated[list[str] | None, typer.Option(
    "--worker", help="HOST:PORT of every multi-worker task, same order everywhere (repeatable; "
    "default: TF_CONFIG).")]
TaskIndexOpt = Annotated[int | None, typer.Option(
    "--task-index", help="This process's position in the --worker list.")]
ConnectTimeoutOpt = Annotated[float, typer.Option(
    "--connect-timeout", min=0, help="Seconds to wait for multi-worker peers or a TPU.")]
TpuOpt = Annotated[str | None, typer.Option(
    "--tpu", help="TPU name or grpc://HOST:PORT (default: COLAB_TPU_ADDR or TPU_NAME).")]


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


# CSV layout and pixel scale (data.label_column, data.pixel_max).
LabelColumnOpt = Annotated[str | None, typer.Option(
    "--label-column", metavar="auto|first|last|NAME",
    help="CSV label column: auto (default: a column named label/digit/..., else first or last "
    "from the values; refuses when it cannot tell), first, last, or a header name.")]
PixelMaxOpt = Annotated[int | None, typer.Option(
    "--pixel-max", min=1, help="Pixel value that means white in CSV/npz/IDX files, e.g. 255, "
    "16 (scikit-learn/UCI digits) or 1; default: detected from the values, with a note.")]
# --- class names (issue 17 point 3) ---
ClassNamesOpt = Annotated[str | None, typer.Option(
    "--class-names", help="Label names shown instead of numbers: fashion (Fashion-MNIST's "
    "ten), a,b,c, or a FILE with one name a line. Default: the run's or TFDS's own names.")]


def class_names_flag(value: str | None) -> list[str] | str | None:
    """`--class-names` -> 'fashion', a list of names (a FILE is read here), or None."""
    from mnist_cli.data.class_names import parse_flag

    return parse_flag(value)


# --- TensorBoard and precision (issue 17) ---
NoTensorboardOpt = Annotated[bool, typer.Option(
    "--no-tensorboard", help="Do not write TensorBoard event files (RUN_DIR/tensorboard/).")]
PrecisionOpt = Annotated[str | None, typer.Option(
    "--precision", metavar="float32|mixed_float16|mixed_bfloat16",
    help="Keras dtype policy (training.precision); mixed_* compute in 16 bits with a float32 "
    "output layer; fast on GPUs/TPUs, slow on CPU.")]


"""`mnist-cli train`."""

from __future__ import annotations

import sys
from typing import Any

from rich.table import Table

from mnist_cli.cli import console
from mnist_cli.cli.options import (
    ActivationOpt,
    BatchOpt,
    ClassNamesOpt,
    ConfigOpt,
    ConnectTimeoutOpt,
    CrossOpsOpt,
    DataDirOpt,
    DataOpt,
    DeterministicOpt,
    DeviceOpt,
    EpochsOpt,
    FailUnderOpt,
    ImageShapeOpt,
    JsonOpt,
    LabelColumnOpt,
    LrOpt,
    NoPlotsOpt,
    NoTensorboardOpt,
    OptimizerOpt,
    PixelMaxOpt,
    PrecisionOpt,
    ProgressOpt,
    QuietOpt,
    ResumeOpt,
    RunDirOpt,
    SeedOpt,
    SetOpt,
    StrategyOpt,
    TaskIndexOpt,
    TestDataOpt,
    TpuOpt,
    ValSplitOpt,
    VerboseOpt,
    WorkerOpt,
    make_overrides,
    strategy_config,
)
from mnist_cli.config import resolve_config
from mnist_cli.flows.train import new_target, resume_target, train_flow
from mnist_cli.strategy.config import CrossDeviceOps
from mnist_cli.tfenv import set_verbose


def summary_table(metrics: dict[str, Any]) -> Table:
    """The result; train/val losses are those of the epoch whose weights the model kept."""
    table = Table(title="Result", show_header=False)
    final, kept = metrics.get("final", {}), metrics.get("kept_epoch", metrics["epochs_run"])
    restored = "last_epoch" in metrics
    rows = [
        ("test accuracy", f"{metrics['test_accuracy']:.4f}"),
        ("balanced accuracy", f"{metrics['balanced_accuracy']:.4f}"),
        ("test loss", f"{metrics['test_loss']:.4f}"),
        ("kept epoch", f"{kept} (best val loss: early stopping restored its weights)"
                       if restored else f"{kept} (the last)"),
        (f"train loss (epoch {kept})", f"{final.get('loss', float('nan')):.4f}"),
        (f"val loss (epoch {kept})", f"{final['val_loss']:.4f}" if "val_loss" in final else "-"),
        ("epochs run", str(metrics["epochs_run"])),
        ("train seconds", f"{metrics['train_seconds']:.2f}"),
        ("samples/s", f"{metrics['samples_per_second']:,.0f}"),
        ("run directory", metrics["run_dir"]),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


def train(
    config: ConfigOpt = None,
    activation: ActivationOpt = None,
    epochs: EpochsOpt = None,
    batch_size: BatchOpt = None,
    optimizer: OptimizerOpt = None,
    learning_rate: LrOpt = None,
    seed: SeedOpt = None,
    data: DataOpt = None,
    test_data: TestDataOpt = None,
    validation_split: ValSplitOpt = None,
    image_shape: ImageShapeOpt = None,
    data_dir: DataDirOpt = None,
    sets: SetOpt = None,
    run_dir: RunDirOpt = None,
    resume: ResumeOpt = None,
    deterministic: DeterministicOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    no_plots: NoPlotsOpt = False,
    strategy: StrategyOpt = "auto",
    device: DeviceOpt = None,
    cross_device_ops: CrossOpsOpt = CrossDeviceOps.auto,
    worker: WorkerOpt = None,
    task_index: TaskIndexOpt = None,
    connect_timeout: ConnectTimeoutOpt = 60.0,
    tpu: TpuOpt = None,
    label_column: LabelColumnOpt = None,
    pixel_max: PixelMaxOpt = None,
    class_names: ClassNamesOpt = None,
    precision: PrecisionOpt = None,
    no_tensorboard: NoTensorboardOpt = False,
    progress: ProgressOpt = "auto",
    fail_under: FailUnderOpt = None,
) -> None:
    """Train a model from a YAML config and write a run directory."""
    console.set_mode(quiet=quiet or json_out, json_out=json_out)
    set_verbose(verbose)
    from mnist_cli.cli.progress import TrainDisplay, resolve_mode
    from mnist_cli.gates import TRAIN_METRICS, parse_gates

    resolve_mode(progress)  # a bad mode or gate is exit 2 before anything runs
    gates = parse_gates(fail_under, TRAIN_METRICS)
    if resume is not None:
        flags = {"--config": config, "--activation": activation, "--epochs": epochs,
                 "--batch-size": batch_size, "--optimizer": optimizer,
                 "--learning-rate": learning_rate, "--seed": seed, "--data": data,
                 "--test-data": test_data, "--validation-split": validation_split,
                 "--image-shape": image_shape, "--data-dir": data_dir, "--set": sets,
                 "--run-dir": run_dir, "--[no-]deterministic": deterministic is not None,
                 "--label-column": label_column, "--pixel-max": pixel_max,
                 "--class-names": class_names,
                 "--precision": precision, "--no-tensorboard": no_tensorboard}
        cfg, target = resume_target(resume, flags, notify=console.info)
    else:
        det = [] if deterministic is None else [f"training.deterministic={deterministic}"]
        overrides = make_overrides(
            activation=activation, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
            learning_rate=learning_rate, seed=seed, data=data, test_data=test_data,
            validation_split=validation_split, image_shape=image_shape, data_dir=data_dir,
            sets=[*det, *(sets or [])],
            label_column=label_column, pixel_max=pixel_max, class_names=class_names,
            precision=precision, no_tensorboard=no_tensorboard,
        )
        cfg = resolve_config(config, overrides)
        target = new_target(cfg.name, run_dir)
    console.set_run_dir(target)

    def display_for(samples: int) -> tuple[Any, list[Any]]:
        display = TrainDisplay(progress, samples=samples)
        return display, display.callbacks(cfg.name)

    result = train_flow(cfg, target, strategy_config(strategy, device, cross_device_ops, worker,
                                                     task_index, connect_timeout, tpu),
                        plots=not no_plots, display_for=display_for,
                        notify=console.info, command=sys.argv)
    if json_out:
        console.print_json(result.metrics)
    elif not quiet:
        console.out.print(summary_table(result.metrics))
    finish_gates(gates, result.metrics, result.chief)


def finish_gates(gates: list[Any], metrics: dict[str, Any], chief: bool = True) -> None:
    """Step summary (when GITHUB_STEP_SUMMARY is set), then the gates: exit 1 naming each
    failed one, now that every artifact is written."""
    from mnist_cli.ci_summary import train_markdown
    from mnist_cli.gates import enforce, evaluate_gates

    results = evaluate_gates(gates, metrics)
    if chief:
        console.step_summary(train_markdown(metrics, results))
    enforce(results)

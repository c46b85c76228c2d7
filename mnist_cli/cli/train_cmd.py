"""`mnist-cli train`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from mnist_cli.cli import console
from mnist_cli.cli.options import (
    ActivationOpt,
    BatchOpt,
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
    LrOpt,
    NoPlotsOpt,
    OptimizerOpt,
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
from mnist_cli.rundir import check_writable, new_run_dir
from mnist_cli.signals import handle_interrupts
from mnist_cli.strategy.config import CrossDeviceOps
from mnist_cli.tfenv import set_verbose


def summary_table(metrics: dict[str, Any]) -> Table:
    table = Table(title="Result", show_header=False)
    final = metrics.get("final", {})
    rows = [
        ("test accuracy", f"{metrics['test_accuracy']:.4f}"),
        ("balanced accuracy", f"{metrics['balanced_accuracy']:.4f}"),
        ("test loss", f"{metrics['test_loss']:.4f}"),
        ("final train loss", f"{final.get('loss', float('nan')):.4f}"),
        ("final val loss", f"{final['val_loss']:.4f}" if "val_loss" in final else "-"),
        ("epochs run", str(metrics["epochs_run"])),
        ("train seconds", f"{metrics['train_seconds']:.2f}"),
        ("samples/s", f"{metrics['samples_per_second']:,.0f}"),
        ("run directory", metrics["run_dir"]),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


def announce(line: str) -> Any:
    """A Keras callback printing `line` as training starts: after the data and layers are
    checked, so a bad input stays a one-line error."""
    from mnist_cli.tfenv import import_keras

    class Announce(import_keras().callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            console.info(line)

    return Announce()


def load_data(cfg: Any) -> Any:
    """The run's dataset (its seed drawn now if not given), with its notes shown first."""
    from mnist_cli.data import load_dataset
    from mnist_cli.train.seeding import resolve_seed

    cfg.training.seed = resolve_seed(cfg.training.seed)
    dataset = load_dataset(cfg.data, cfg.training.seed)
    console.notes(dataset.description.notes)
    return dataset


def resume_run(run_dir: Path, flags: dict[str, Any]) -> tuple[Any, Path]:
    """The saved config of an interrupted run (refusing config flags) and its directory."""
    from mnist_cli.train.resume import completed_epochs, load_resume_config, refuse_conflicts

    refuse_conflicts(run_dir, flags)
    cfg = load_resume_config(run_dir)
    check_writable(run_dir)
    done = completed_epochs(run_dir)
    console.info(f"resuming {run_dir} at epoch {done + 1} of {cfg.training.epochs}")
    return cfg, Path(run_dir)


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
                 "--run-dir": run_dir, "--[no-]deterministic": deterministic is not None}
        cfg, target = resume_run(resume, flags)
    else:
        det = [] if deterministic is None else [f"training.deterministic={deterministic}"]
        overrides = make_overrides(
            activation=activation, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
            learning_rate=learning_rate, seed=seed, data=data, test_data=test_data,
            validation_split=validation_split, image_shape=image_shape, data_dir=data_dir,
            sets=[*det, *(sets or [])],
        )
        cfg = resolve_config(config, overrides)
        target = new_run_dir(cfg.name, run_dir)
        check_writable(target)
    console.set_run_dir(target)
    from mnist_cli.strategy import make_strategy, run_dir_for, summary_line
    from mnist_cli.train import run_training

    dist, desc = make_strategy(strategy_config(strategy, device, cross_device_ops, worker,
                                               task_index, connect_timeout, tpu))
    dataset = load_data(cfg)  # after the strategy: multi-worker must come before TF ops
    display = TrainDisplay(progress, samples=len(dataset.train))
    callbacks = [announce(summary_line(desc, cfg.training.batch_size)),
                 *display.callbacks(cfg.name)]
    with display, handle_interrupts(), run_dir_for(desc, target) as where:
        result = run_training(cfg, where, dataset=dataset, strategy=dist, strategy_desc=desc,
                              callbacks=callbacks, command=sys.argv)
    no_plots = no_plots or not desc.get("is_chief", True)  # other workers keep nothing
    if not no_plots and result.history.get("loss"):
        from mnist_cli.plots import write_curves

        write_curves(Path(target) / "curves.png", result.history, title=cfg.name)
    if json_out:
        console.print_json(result.metrics)
    elif not quiet:
        console.out.print(summary_table(result.metrics))
    finish_gates(gates, result.metrics, desc.get("is_chief", True))


def finish_gates(gates: list[Any], metrics: dict[str, Any], chief: bool = True) -> None:
    """Step summary (when GITHUB_STEP_SUMMARY is set), then the gates: exit 1 naming each
    failed one, now that every artifact is written."""
    from mnist_cli.ci_summary import train_markdown
    from mnist_cli.gates import enforce, evaluate_gates

    results = evaluate_gates(gates, metrics)
    if chief:
        console.step_summary(train_markdown(metrics, results))
    enforce(results)

"""The training pipeline: config -> checks -> strategy -> dataset -> model -> engine -> artifacts.

One module for every caller (`train`, `compare`, `tune`, the library's `run_training`). It
resolves the run's settings once, on its own copy of the config (the caller's is never
modified; the resolved one is `TrainResult.config`), checks the layers (and the model, on
the data's peeked image shape) before any data is read, and prints nothing: progress
reaches the caller through the `Display` or callbacks.
"""

from __future__ import annotations

import copy
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import mnist_cli.runs.outputs as out
import mnist_cli.runs.rundir as rundir
import mnist_cli.training.guards as guards
import mnist_cli.training.resume as resume
from mnist_cli.config.schema import RunConfig
from mnist_cli.data.types import Dataset
from mnist_cli.distribute import StrategyConfig, StrategyDescription
from mnist_cli.runs.timings import phase, take
from mnist_cli.training.records import score_run, strategy_record
from mnist_cli.training.safety import fit_callbacks, reliable_fit


@dataclass
class TrainResult:
    """What a finished run produced: its directory, metrics and per-epoch history."""

    run_dir: Path
    metrics: dict[str, Any]
    history: dict[str, list[float]] = field(default_factory=dict)
    model: Any = None
    test_outputs: Any = None
    chief: bool = True
    """False on multi-worker tasks other than the chief, which keep no files."""
    config: RunConfig | None = None
    """The resolved config the run trained (seed and split seed settled)."""


def default_strategy() -> Any:
    from mnist_cli.backend import import_tf, is_jax

    if is_jax():
        from mnist_cli.distribute.jax_strategies import default_strategy as jax_default

        return jax_default()
    return import_tf().distribute.get_strategy()


def check_config(cfg: RunConfig, peek: bool = False) -> None:
    """What can be refused before any data is read: the backend (a UsageError if Keras
    already runs another in this process, or a strategy it lacks) and every layer; with
    `peek` (runs TensorFlow ops: only once a multi-worker strategy is made), the model too,
    on the data's image shape where a look at the data tells it without loading them."""
    from mnist_cli.backend import select_backend
    from mnist_cli.data.peek import peek as peek_data
    from mnist_cli.modeling.build import check_layers, check_shapes

    if select_backend(cfg.training.backend) == "jax":
        from mnist_cli.distribute.jax_strategies import check_config as check_jax

        check_jax(cfg)
    check_layers(cfg.model, source=cfg.name)
    if peek and (seen := peek_data(cfg.data)) is not None:
        check_shapes(cfg.model, *seen, cfg.name, cfg.training.precision)


def check_data(cfg: RunConfig, data: Dataset) -> None:
    """Refuse early stopping without validation data and a wrong class-name count; record
    the split seed so readers rebuild this split. Before anything is written."""
    from mnist_cli.data import class_names

    if cfg.training.early_stopping_patience > 0 and (
            data.validation is None or len(data.validation) == 0):
        from mnist_cli.config.load import EARLY_STOPPING_NEEDS_VALIDATION
        from mnist_cli.errors import ConfigError

        raise ConfigError([EARLY_STOPPING_NEEDS_VALIDATION.format(
            cfg.training.early_stopping_patience)], source=cfg.name)
    if data.description.split_seed is not None:
        cfg.data.split_seed = data.description.split_seed
    class_names.settle(cfg.data, data.description)


def prepare(cfg: RunConfig, dataset: Dataset | None, ui: Any = None) -> Dataset:
    """Settle the seed, check the config, load the data (unless given; its notes reported)
    and check it, then seed every generator: all before anything is written or trained."""
    from mnist_cli.modeling.precision import precision_notes
    from mnist_cli.training.seeding import resolve_seed, seed_everything

    cfg.training.seed = resolve_seed(cfg.training.seed)
    check_config(cfg, peek=dataset is None)
    if dataset is None:
        from mnist_cli.data.dataset import load_run_dataset

        with phase("data"):
            dataset = load_run_dataset(cfg)
        if ui is not None:
            ui.notes([*dataset.description.notes, *precision_notes(cfg.training.precision)])
    check_data(cfg, dataset)
    seed_everything(cfg.training.seed, cfg.training.deterministic)
    return dataset


def build_in_scope(cfg: RunConfig, data: Dataset, strategy: Any) -> Any:
    """The compiled model, its variables (on JAX the optimizer's too: `keras.distribution`
    places only what is created in its scope) created under the strategy's scope."""
    from mnist_cli.backend import is_jax, run_once_programs
    from mnist_cli.modeling.build import build_model, compile_model

    with strategy.scope(), run_once_programs():
        model = build_model(cfg.model, data.description.image_shape,
                            data.description.num_classes, cfg.name, cfg.training.precision)
        compile_model(model, cfg.model, cfg.training)
        if is_jax():
            model.optimizer.build(model.trainable_variables)
    return model


def train_into(cfg: RunConfig, target: Path, scfg: StrategyConfig, ui: Any, *,
               plots: bool, command: list[str]) -> TrainResult:
    """Train `cfg` into `target` as a command does: the strategy first (multi-worker must
    come before any TensorFlow op), progress on `ui`, interrupts handled, curves.png drawn;
    under multi-worker only the chief keeps the run directory."""
    from mnist_cli.distribute import make_strategy, run_dir_for
    from mnist_cli.signals import handle_interrupts

    cfg = copy.deepcopy(cfg)
    check_config(cfg)  # before the strategy: a cluster is not joined for a bad layer
    scfg = replace(scfg, name=resume.resume_strategy(target, scfg.name))
    dist, desc = make_strategy(scfg)
    resume.check_same_replicas(target, desc.name, desc.replicas)
    with handle_interrupts(), run_dir_for(desc, target) as where:
        result = run_training(cfg, where, strategy=dist, strategy_desc=desc, ui=ui,
                              command=command)
    result.chief = desc.is_chief
    if plots and result.chief and result.history.get("loss"):
        from mnist_cli.plots import write_curves

        with phase("plots"):
            write_curves(Path(target) / rundir.CURVES, result.history, title=cfg.name)
        if "timings" in result.metrics:  # drawn after metrics.json was written
            result.metrics["timings"].update(plots=take()["plots"])
            rundir.write_metrics(Path(target), result.metrics)
    return result


def announce(line: str, ui: Any) -> Any:
    """A Keras callback reporting `line` as training starts (after every check)."""
    from mnist_cli.backend import import_keras

    class Announce(import_keras().callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            ui.notify(line)

    return Announce()


@guards.records_faults  # a full disk or vanished path mid-run: one line, run marked failed
def run_training(
    cfg: RunConfig,
    run_dir: Path,
    *,
    dataset: Dataset | None = None,
    strategy: Any = None,
    strategy_desc: StrategyDescription | None = None,
    callbacks: list[Any] | None = None,
    command: list[str] | None = None,
    score_test: bool = True,
    ui: Any = None,
) -> TrainResult:
    """Train `cfg` (never modified) and write config.yaml, model.keras, history.csv and
    metrics.json into `run_dir`.

    `strategy_desc` (from `make_strategy`) names the strategy as the user chose it, and why.
    `score_test=False` (tune's trials) never touches the test split: no test keys then.
    `ui`: a `Display` for data notes, the strategy line and progress (commands).
    """
    from mnist_cli.training.fused import Engine

    cfg = copy.deepcopy(cfg)
    with phase("build"):  # the data are loaded in `prepare` (phase data) unless given
        data = prepare(cfg, dataset, ui)
        strategy = strategy or default_strategy()
        global_batch = cfg.training.batch_size * int(strategy.num_replicas_in_sync)
        model = build_in_scope(cfg, data, strategy)
        engine = Engine.for_strategy(
            strategy, model, cfg.training.epochs * -(-len(data.train) // global_batch))
    hooks = list(callbacks or [])
    shown: Any = nullcontext()
    if ui is not None:
        from mnist_cli.distribute import summary_line

        shown = ui.training(samples=len(data.train))
        if strategy_desc is not None:
            hooks.insert(0, announce(summary_line(strategy_desc, cfg.training.batch_size), ui))
        hooks.extend(shown.callbacks(cfg.name))
    with shown:
        return train_and_record(cfg, Path(run_dir), data, model, engine, strategy,
                                strategy_desc, hooks, command, score_test, global_batch)


def train_and_record(cfg: RunConfig, run_dir: Path, data: Dataset, model: Any, engine: Any,
                     strategy: Any, strategy_desc: StrategyDescription | None,
                     callbacks: list[Any], command: list[str] | None, score_test: bool,
                     global_batch: int) -> TrainResult:
    """Start (or resume) the run directory, train through the engine with the guards and
    backup, score the test split with the engine's predict path, write every artifact."""
    from mnist_cli.backend import current_backend
    from mnist_cli.modeling.precision import precision_record
    from mnist_cli.tracking.tensorboard import board_callbacks, write_test

    rundir.check_split(run_dir, data.description, ("train", "validation", "test"),
                       "resuming would train on other data; start a new run")
    out.start_run_dir(run_dir, cfg, data.description)
    resumed_from = resume.completed_epochs(run_dir)
    strategy_used = strategy_record(strategy, strategy_desc, cfg.training.batch_size)
    resume.check_same_replicas(run_dir, strategy_used["name"], strategy_used["replicas"])
    resume.record_strategy(run_dir, strategy_used)
    stopping = fit_callbacks(cfg)
    boards = board_callbacks(cfg, run_dir, len(data.train), strategy_desc)
    try:
        with phase("train"):
            history, fit_seconds = reliable_fit(cfg, data, model, engine, global_batch,
                                                run_dir, [*callbacks, *boards], command,
                                                resumed_from, stopping)
    finally:  # a failed or interrupted run keeps every epoch's scalars too
        for board in boards:
            board.on_train_end()
    start = time.perf_counter()
    outputs, metrics = score_run(cfg, data, model, engine, global_batch, score_test)
    eval_seconds = time.perf_counter() - start
    epochs_run = len(next(iter(history.values()), []))
    metrics.update(
        status="completed",
        epochs_run=epochs_run,
        train_seconds=round(fit_seconds, 3),
        eval_seconds=round(eval_seconds, 3),
        resumed_from_epoch=resumed_from,  # train_seconds and samples/s cover this session
        samples_per_second=round(len(data.train) * (epochs_run - resumed_from)
                                 / max(fit_seconds, 1e-9), 1),
        **out.epoch_record(history, stopping),  # final: the kept epoch's metrics
        params=int(model.count_params()),
        strategy=strategy_used,
        precision=precision_record(model, cfg.training.precision),
        engine=engine.record(data, strategy, global_batch),
        seed=cfg.training.seed,
        backend=current_backend(),
        dataset=data.description.to_dict(),
        versions=out.versions(),
        command=command or [],
        run_dir=str(run_dir),
    )
    write_test(boards, metrics, epochs_run)
    out.finish_run_dir(run_dir, model, history, metrics)
    resume.cleanup(run_dir)
    return TrainResult(run_dir, metrics, history, model, outputs, config=cfg)

"""The training flow: config -> dataset -> strategy -> model -> fit -> artifacts.

The core prints nothing; progress reaches the caller through Keras callbacks it passes in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mnist_cli.runs.outputs as out
import mnist_cli.runs.rundir as rundir
import mnist_cli.training.backup as backup
import mnist_cli.training.fused as fused
import mnist_cli.training.guards as guards
import mnist_cli.training.resume as resume
from mnist_cli.backend import current_backend
from mnist_cli.config.schema import RunConfig
from mnist_cli.data import class_names
from mnist_cli.data.pipeline import scale_images, to_tf_dataset
from mnist_cli.data.types import Dataset
from mnist_cli.distribute import StrategyDescription
from mnist_cli.modeling.build import build_model, check_layers, compile_model
from mnist_cli.modeling.precision import precision_record
from mnist_cli.runs.timings import phase
from mnist_cli.scoring.metrics import predict_outputs, score
from mnist_cli.training.custom_loop import fit_custom, predict_local
from mnist_cli.training.seeding import resolve_seed, seed_everything
from mnist_cli.training.tensorboard import board_callbacks, write_test


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


def default_strategy() -> Any:
    from mnist_cli.backend import import_tf, is_jax

    if is_jax():
        from mnist_cli.training.jax_distribution import default_strategy as jax_default

        return jax_default()
    return import_tf().distribute.get_strategy()


def fit_callbacks(cfg: RunConfig) -> list[Any]:
    """Keras callbacks the config asks for (early stopping restores the best weights)."""
    from mnist_cli.backend import import_keras

    keras = import_keras()
    callbacks: list[Any] = []
    if cfg.training.early_stopping_patience > 0:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=cfg.training.early_stopping_patience,
            restore_best_weights=True,
        ))
    return callbacks


def fit(cfg: RunConfig, data: Dataset, model: Any, global_batch: int,
        callbacks: list[Any], initial_epoch: int = 0) -> tuple[dict[str, list[float]], float]:
    """The engine `fused.choose_engine` picks (fused, or model.fit on tf.data pipelines, or
    the multi-worker loop); returns history and fit seconds."""
    t = cfg.training
    engine, _ = fused.choose_engine(cfg, getattr(model, "distribute_strategy", None))
    if engine == "custom":  # Keras 3 fit fails under multi-worker (keras#20585)
        return fit_custom(cfg, data, model, model.distribute_strategy, global_batch,
                          callbacks, initial_epoch)
    if engine == "fused":
        return fused.fit_fused(cfg, data, model, global_batch, callbacks, initial_epoch)
    train_ds = to_tf_dataset(data.train, global_batch, shuffle=True, seed=t.seed or 0,
                             scale=cfg.data.scale)
    resume.advance_shuffle(train_ds, initial_epoch)
    val_ds = None
    if data.validation is not None and len(data.validation):
        val_ds = to_tf_dataset(data.validation, global_batch, scale=cfg.data.scale)
    start = time.perf_counter()
    hist = model.fit(train_ds, validation_data=val_ds, epochs=t.epochs,
                     initial_epoch=initial_epoch,
                     callbacks=callbacks, verbose=0,
                     shuffle=False)  # tf.data already shuffles, seeded
    seconds = time.perf_counter() - start
    return {k: [float(v) for v in vals] for k, vals in hist.history.items()}, seconds


def probe_images(cfg: RunConfig, data: Dataset) -> Any:
    """A few training images to check probability outputs on (None for logits)."""
    if cfg.model.output != "probabilities":
        return None
    return scale_images(data.train.x[:256], cfg.data.scale)


def reliable_fit(cfg: RunConfig, data: Dataset, model: Any, global_batch: int, run_dir: Path,
                 callbacks: list[Any], command: list[str] | None, done: int = 0,
                 stopping: list[Any] | None = None) -> tuple[dict[str, list[float]], float]:
    """`fit` with NaN/interrupt guards and an epoch-end backup, resuming from it if present;
    the returned history covers the whole run (`done`: epochs already in the backup).
    `stopping`: the early-stopping callbacks (default: the config's). Failures are recorded
    in metrics.json."""
    if stopping is None:  # before the backup, which saves and restores its state
        stopping = fit_callbacks(cfg)
    safety = guards.training_callbacks(run_dir, probe_images(cfg, data), stopping)
    recorder = resume.history_callback(run_dir, safety[-1])  # saved with the backup
    try:
        _, seconds = fit(cfg, data, model, global_batch,
                         [*stopping, *safety, recorder, *callbacks], done)
    except guards.Diverged as exc:
        backup.flush(safety, recorder)
        raise guards.record_failure(run_dir, cfg, exc, model, recorder.history,
                                    command) from None
    except KeyboardInterrupt as exc:
        backup.flush(safety, recorder)
        raise resume.record_interrupt(run_dir, cfg, exc, recorder.history, command) from None
    return recorder.history, seconds


def check_early_stopping(cfg: RunConfig, data: Dataset) -> None:
    """Early stopping watches val_loss: refuse it up front when there is no validation data
    (config validation catches validation_split 0; this covers a dataset passed in)."""
    if cfg.training.early_stopping_patience > 0 and (
            data.validation is None or len(data.validation) == 0):
        from mnist_cli.config.load import EARLY_STOPPING_NEEDS_VALIDATION
        from mnist_cli.errors import ConfigError

        raise ConfigError([EARLY_STOPPING_NEEDS_VALIDATION.format(
            cfg.training.early_stopping_patience)], source=cfg.name)


def strategy_record(strategy: Any, desc: StrategyDescription | None,
                    batch_per_replica: int) -> dict[str, Any]:
    """metrics.json's `strategy`: the user-facing name and why, TF class, replicas, batches."""
    cls = type(strategy).__name__
    default = cls == "_DefaultDistributionStrategy"
    name, why = ((desc.name, desc.why) if desc else
                 ("default" if default else cls, "no strategy flag (library call)"))
    replicas = int(strategy.num_replicas_in_sync)
    return {"name": name, "why": why, "class": cls, "replicas": replicas,
            "batch_size_per_replica": batch_per_replica,
            "global_batch_size": batch_per_replica * replicas}


def prepare(cfg: RunConfig, dataset: Dataset | None) -> Dataset:
    """Settle the seed, check the layers, load the data (unless given) and check it against
    the config, then seed every generator: all before anything is written or trained."""
    cfg.training.seed = resolve_seed(cfg.training.seed)
    check_backend(cfg)
    check_layers(cfg.model, source=cfg.name)
    if dataset is None:
        from mnist_cli.data.dataset import load_run_dataset

        with phase("data"):
            dataset = load_run_dataset(cfg)
    if dataset.description.split_seed is not None:  # recorded: readers rebuild this split
        cfg.data.split_seed = dataset.description.split_seed
    check_early_stopping(cfg, dataset)
    class_names.settle(cfg.data, dataset.description)  # wrong count: exit 2 before training
    seed_everything(cfg.training.seed, cfg.training.deterministic)
    return dataset


def check_backend(cfg: RunConfig) -> None:
    """Run on the config's backend (a UsageError if Keras already runs on another in this
    process) and refuse what that backend does not do."""
    from mnist_cli.backend import select_backend

    if select_backend(cfg.training.backend) == "jax":
        from mnist_cli.training.jax_distribution import check_config

        check_config(cfg)


def build_in_scope(cfg: RunConfig, data: Dataset, strategy: Any) -> Any:
    """The compiled model, its variables (on JAX the optimizer's too: `keras.distribution`
    places only what is created in its scope) created under the strategy's scope."""
    from mnist_cli.backend import is_jax, run_once_programs

    with strategy.scope(), run_once_programs():
        model = build_model(cfg.model, data.description.image_shape,
                            data.description.num_classes, cfg.name, cfg.training.precision)
        compile_model(model, cfg.model, cfg.training)
        if is_jax():
            model.optimizer.build(model.trainable_variables)
    return model


def start_run_dir(run_dir: Path, cfg: RunConfig, data: Dataset) -> None:
    """Refuse to resume on data split differently from the recorded split, then write
    config.yaml and split.json."""
    rundir.check_split(run_dir, data.description, ("train", "validation", "test"),
                       "resuming would train on other data; start a new run")
    out.start_run_dir(run_dir, cfg, data.description)


def score_test_split(cfg: RunConfig, data: Dataset, model: Any, engine: str,
                     global_batch: int) -> tuple[Any, dict[str, Any]]:
    """The model's outputs on the test split and their scores (loss, accuracy, ...)."""
    predict = {"custom": predict_local, "fused": fused.predict_fused}.get(engine,
                                                                          predict_outputs)
    outputs = predict(model, data.test, global_batch, cfg.data.scale)
    return outputs, score(outputs, data.test.y, cfg.model.output)


def score_run(cfg: RunConfig, data: Dataset, model: Any, strategy: Any, global_batch: int,
              score_test: bool) -> tuple[Any, dict[str, Any], dict[str, Any], float]:
    """(test outputs, metrics, engine record, seconds): the engine that trained, and its
    scores on the test split unless `score_test` is False (then none, and no metrics)."""
    start = time.perf_counter()
    with phase("evaluate"):
        engine = fused.engine_record(cfg, strategy, data)
        outputs, metrics = (score_test_split(cfg, data, model, engine["name"], global_batch)
                            if score_test else (None, {}))
    return outputs, metrics, engine, time.perf_counter() - start


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
) -> TrainResult:
    """Train `cfg` and write config.yaml, model.keras, history.csv and metrics.json.

    `strategy_desc` (from `make_strategy`) names the strategy as the user chose it, and why.
    `score_test=False` (tune's trials) never touches the test split: no test keys then.
    """
    with phase("build"):  # the data are loaded in `prepare` (phase data) unless given
        data = prepare(cfg, dataset)
        strategy = strategy or default_strategy()
        global_batch = cfg.training.batch_size * int(strategy.num_replicas_in_sync)
        model = build_in_scope(cfg, data, strategy)
    start_run_dir(run_dir, cfg, data)
    resumed_from = resume.completed_epochs(Path(run_dir))
    stopping = fit_callbacks(cfg)
    boards = board_callbacks(cfg, Path(run_dir), len(data.train), strategy_desc)
    try:
        with phase("train"):
            history, fit_seconds = reliable_fit(cfg, data, model, global_batch, Path(run_dir),
                                                [*(callbacks or []), *boards], command,
                                                resumed_from, stopping)
    finally:  # a failed or interrupted run keeps every epoch's scalars too
        for board in boards:
            board.on_train_end()
    outputs, metrics, engine, eval_seconds = score_run(cfg, data, model, strategy,
                                                       global_batch, score_test)
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
        strategy=strategy_record(strategy, strategy_desc, cfg.training.batch_size),
        precision=precision_record(model, cfg.training.precision),
        engine=engine,
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
    return TrainResult(run_dir, metrics, history, model, outputs)

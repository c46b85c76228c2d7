"""The library API: every command as a function (`from mnist_cli import train, ...`).

Each function's keywords are the command's flags (`--batch-size` is `batch_size`, `--set` is
`sets`), each default written here once; the CLI (`mnist_cli.cli`) only parses flags, calls
these and prints. So a run directory is the same whichever wrote it. Config flags become one
`Overrides`, applied to the raw config and validated once (`mnist_cli.config`); strategy
flags become one `StrategyConfig`.

Nothing is printed unless `progress` asks for it (`mnist_cli.display`). Mistakes raise the
tool's own exceptions (`mnist_cli.errors`) with the messages the CLI prints.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.load import suggest
from mnist_cli.config.resolve import ConfigSource
from mnist_cli.display import Display
from mnist_cli.distribute import CrossDeviceOps, StrategyConfig, StrategyName
from mnist_cli.errors import UsageError
from mnist_cli.redact import redact_command
from mnist_cli.results import Comparison, Evaluation, GradCheck, Prediction, Run, load_run
from mnist_cli.runs.targets import new_target, resume_target
from mnist_cli.tracking.session import open_tracker

__all__ = ["Comparison", "Evaluation", "GradCheck", "Prediction", "Run", "compare", "evaluate",
           "export", "gradcheck", "load_run", "log", "predict", "train", "tune"]

F = TypeVar("F", bound=Callable[..., Any])
Progress = bool | str | Display
"""`progress=`: False (nothing printed), True (progress and status lines suited to where it
runs: a bar in a terminal or in Jupyter with ipywidgets, else one line per epoch), a
`--progress` mode name, or a Display (what the CLI passes)."""


def checked_keywords(func: F) -> F:
    """A misspelt keyword is the tool's UsageError with a "did you mean", as a misspelt flag
    is, instead of Python's bare TypeError."""
    code = func.__code__
    known = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        for key in kwargs:
            if key not in known:
                raise UsageError(f"{func.__name__}(): unknown option {key!r}"
                                 f"{suggest(key, known)}; options: {', '.join(sorted(known))}")
        return func(*args, **kwargs)

    return call  # type: ignore[return-value]


def as_list(value: Any) -> list[Any]:
    """A repeatable flag: one value or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def strategy_config(strategy: str = "auto", device: Any = None,
                    cross_device_ops: str | CrossDeviceOps = "auto", worker: Any = None,
                    task_index: int | None = None, connect_timeout: float = 60.0,
                    tpu: str | None = None) -> StrategyConfig:
    """The strategy keywords -> StrategyConfig, a wrong name being the tool's one-line error."""
    try:
        name = StrategyName(strategy).value
    except ValueError:
        choices = ", ".join(n.value for n in StrategyName)
        raise UsageError(f"--strategy {strategy!r} is not a known strategy; choose one of "
                         f"{choices}") from None
    try:
        ops = CrossDeviceOps(cross_device_ops).value
    except ValueError:
        raise UsageError(f"--cross-device-ops {cross_device_ops!r}: choose one of "
                         f"{', '.join(o.value for o in CrossDeviceOps)}") from None
    return StrategyConfig(name=name, devices=as_list(device), cross_device_ops=ops,
                          workers=as_list(worker), task_index=task_index,
                          connect_timeout=float(connect_timeout), tpu=tpu)


def flag_overrides(given: dict[str, Any], *left_out: str) -> Overrides:
    """The config flags among an API function's keywords (`given`: its locals())."""
    return Overrides(**{f.name: given[f.name] for f in fields(Overrides)
                        if f.name in given and f.name not in left_out})


def call_text(name: str, config: Any, overrides: Overrides | None = None,
              **more: Any) -> list[str]:
    """What metrics.json records as the command of an API call: its non-default settings
    (`auto`, the default wherever it is accepted, left out too)."""
    def text(value: Any) -> str:
        if hasattr(value, "to_dict"):
            return f"<{type(value).__name__} {getattr(value, 'name', '')}>"
        return repr(value)

    given = {"config": config, **(vars(overrides) if overrides else {}), **more}
    shown = ", ".join(f"{k}={text(v)}" for k, v in given.items()
                      if v is not None and v is not False and v not in ([], (), "auto"))
    return [f"mnist_cli.{name}({shown})"]


@checked_keywords
def train(config: ConfigSource = None, *, activation: str | None = None,
          epochs: int | None = None, batch_size: int | None = None,
          optimizer: str | None = None, learning_rate: float | None = None,
          seed: int | None = None, sets: Any = None, data: str | None = None,
          test_data: str | None = None, validation_split: float | None = None,
          image_shape: Any = None, data_dir: str | None = None,
          label_column: str | None = None, pixel_max: int | None = None,
          class_names: str | list[str] | None = None, run_dir: str | Path | None = None,
          resume: str | Path | None = None, deterministic: bool | None = None,
          no_plots: bool = False, no_tensorboard: bool = False, precision: str | None = None,
          backend: str | None = None, strategy: str = "auto", device: Any = None,
          cross_device_ops: str = "auto", worker: Any = None, task_index: int | None = None,
          connect_timeout: float = 60.0, tpu: str | None = None, progress: Progress = False,
          command: list[str] | None = None, mlflow: str | None = None,
          mlflow_experiment: str | None = None) -> Run:
    """Train a model and write a run directory, like `mnist-cli train`.

    `config`: a shipped name (mlp_relu, mlp_softmax, cnn), a YAML path, a RunConfig or a
    mapping (validated like a YAML file; never modified). `sets` takes ["training.epochs=3"]
    or {"training.epochs": 3}. `command`: what metrics.json records (default: this call).
    `mlflow`: a tracking URI (or `env`), logged to live (docs/tracking.md).
    """
    ui = Display.of(progress)
    ov = flag_overrides(locals())
    scfg = strategy_config(strategy, device, cross_device_ops, worker, task_index,
                           connect_timeout, tpu)
    if resume is not None:
        conflicts = {"--config": config, **{f"--{k.replace('_', '-')}": v for k, v
                                            in vars(ov).items() if k != "sets"},
                     "--set": ov.sets, "--run-dir": run_dir,
                     "--[no-]deterministic": deterministic is not None}
        cfg, target = resume_target(Path(resume), conflicts, ui)
    else:
        if deterministic is not None:
            ov.sets.insert(0, f"training.deterministic={deterministic}")
        cfg = resolve_config(config, ov)
        target = new_target(cfg.name, run_dir)
    tracking = train_tracking(cfg, target, mlflow, mlflow_experiment, resume is None)
    ui.writing_to(target)
    from mnist_cli.runs.lock import writing
    from mnist_cli.training.pipeline import train_into

    try:
        with writing(target, "train", scfg, fresh=resume is None):
            result = train_into(
                cfg, target, scfg, tracking.display(ui) if tracking else ui,
                plots=not no_plots, command=redact_command(command or call_text(
                    "train", config, ov, run_dir=run_dir, resume=resume, strategy=strategy)))
    finally:
        if tracking:
            tracking.finish(ui)
    if not result.chief:  # a multi-worker non-chief keeps no files
        return Run(Path(result.run_dir), result.metrics, None, result.model, cfg, chief=False)
    return load_run(target, model=result.model)


def train_tracking(cfg: Any, target: Path, mlflow: str | None, experiment: str | None,
                   new: bool) -> Any:
    """`mlflow=`'s TrainTracking (None: not tracked); the server is checked now, before
    training (exit 2). A new run's config records where it is tracked."""
    from mnist_cli.tracking.session import open_tracker, record_choice

    tracker = open_tracker(mlflow, experiment, cfg.mlflow)
    if tracker is None:
        return None
    if new:
        record_choice(cfg, mlflow, experiment)
    from mnist_cli.tracking.live import TrainTracking

    return TrainTracking(tracker, target)


def image_shape_list(image_shape: Any) -> list[int] | None:
    return [int(d) for d in image_shape] if image_shape else None


@checked_keywords
def evaluate(target: str | Path, *, data: str | None = None, image_shape: Any = None,
             data_dir: str | None = None, label_column: str | None = None,
             pixel_max: int | None = None, class_names: str | list[str] | None = None,
             no_plots: bool = False, backend: str | None = None, strategy: str = "auto",
             device: Any = None, cross_device_ops: str = "auto", worker: Any = None,
             task_index: int | None = None, connect_timeout: float = 60.0,
             tpu: str | None = None, progress: Progress = False) -> Evaluation:
    """Score a run directory's (or .keras file's) model, like `mnist-cli evaluate`: writes
    evaluation.json, confusion_matrix.png and errors.png into the run directory.

    `backend`: tensorflow or jax; None runs the model on the backend its run trained on
    (tensorflow for a bare .keras file), or on the one Keras already runs on in this
    process when that differs (with a note). The report's `backend` says which ran."""
    import pandas as pd

    from mnist_cli.data.class_names import parse_flag

    ui = Display.of(progress)
    scfg = strategy_config(strategy, device, cross_device_ops, worker, task_index,
                           connect_timeout, tpu)
    ui.writing_to(Path(target) if Path(target).is_dir() else None)
    names = parse_flag(class_names) if isinstance(class_names, str) else class_names
    from mnist_cli.runs.lock import writing
    from mnist_cli.scoring.session import score

    out_dir = Path(target) if Path(target).is_dir() else Path(target).parent
    with writing(out_dir, "evaluate", scfg) if Path(target).exists() else nullcontext():
        loaded, result, files, chief = score(
            target, scfg, ui, data=data, image_shape=image_shape_list(image_shape),
            data_dir=data_dir, label_column=label_column, pixel_max=pixel_max,
            class_names=names, plots=not no_plots, backend=backend)
    report = {**result.to_dict(), "output_form": loaded.output_form, "files": files}
    matrix = report["confusion_matrix"]
    confusion = pd.DataFrame(matrix, index=pd.Index(range(len(matrix)), name="true"),
                             columns=pd.Index(range(len(matrix)), name="predicted"))
    return Evaluation(report, pd.DataFrame(report["per_class"]), confusion, result.probs,
                      loaded.model, loaded.run_dir, files, chief)


@checked_keywords
def predict(target: str | Path, *, data: str | None = None, out: str | Path | None = None,
            format: str = "csv", force: bool = False, image_shape: Any = None,
            data_dir: str | None = None, label_column: str | None = None,
            pixel_max: int | None = None, class_names: str | list[str] | None = None,
            backend: str | None = None, progress: Progress = False) -> Prediction:
    """Label every image of `data`, like `mnist-cli predict`: csv, Kaggle csv or JSON, to
    `out` or the run directory, never overwriting a file unless force=True. `backend` as
    for `evaluate` (None: the run's own); the Prediction's `backend` says which ran."""
    from mnist_cli.data.class_names import parse_flag
    from mnist_cli.modeling.io import load_model
    from mnist_cli.predictions import check_format, check_target, default_out, predict_to_file
    from mnist_cli.scoring.backends import choose_backend
    from mnist_cli.scoring.evaluation import BATCH_SIZE, load_split, model_class_names

    ui = Display.of(progress)
    if data is None:
        raise UsageError("pass --data with the images to label, e.g. --data test.csv")
    ui.writing_to(Path(target) if Path(target).is_dir() else None)
    names = parse_flag(class_names) if isinstance(class_names, str) else class_names
    fmt = check_format(format)
    notes: list[str] = []
    choose_backend(backend, target, notes)  # before Keras loads
    loaded = load_model(target)
    names = model_class_names(loaded, names)  # a wrong count is refused before reading data
    path = Path(out) if out is not None else default_out(loaded, data, fmt)
    check_target(path, force)
    split, source = load_split(loaded, data, image_shape=image_shape_list(image_shape),
                               data_dir=data_dir, require_labels=False,
                               label_column=label_column or "auto", pixel_max=pixel_max,
                               notes=notes)
    ui.notes(notes)
    shown = ui.batches("predict", len(split), BATCH_SIZE)
    with shown:
        return predict_to_file(loaded, split, path, fmt, source=source,
                               callbacks=shown.callbacks(), names=names)


@checked_keywords
def compare(config: Any = None, *, activation: Any = None, output: Any = None,
            repeats: int = 1, epochs: int | None = None, batch_size: int | None = None,
            optimizer: str | None = None, learning_rate: float | None = None,
            seed: int | None = None, sets: Any = None, data: str | None = None,
            test_data: str | None = None, validation_split: float | None = None,
            image_shape: Any = None, data_dir: str | None = None,
            label_column: str | None = None, pixel_max: int | None = None,
            class_names: str | list[str] | None = None, run_dir: str | Path | None = None,
            no_tensorboard: bool = False, precision: str | None = None,
            backend: str | None = None, strategy: str = "auto", device: Any = None,
            cross_device_ops: str = "auto", worker: Any = None, task_index: int | None = None,
            connect_timeout: float = 60.0, tpu: str | None = None, progress: Progress = False,
            command: list[str] | None = None, mlflow: str | None = None,
            mlflow_experiment: str | None = None, workers: int = 1) -> Comparison:
    """Train several variants on the same data and seeds and compare them (McNemar's test),
    like `mnist-cli compare`. `config`, `activation` and `output` take one value or a list;
    with neither config nor activation: softmax vs relu, the seed notebook's experiment.
    `mlflow`: a tracking URI (or `env`): a parent run with one child per variant x seed.
    `workers`: train the sub-runs in that many processes (results identical to 1)."""
    import pandas as pd

    from mnist_cli.comparison import build_variants, plan_seeds
    from mnist_cli.comparison.parallel import check_workers
    from mnist_cli.comparison.report import sentences

    ui = Display.of(progress)
    ov = flag_overrides(locals(), "activation", "output")  # those two are variant lists
    scfg = strategy_config(strategy, device, cross_device_ops, worker, task_index,
                           connect_timeout, tpu)
    dims = [as_list(config), as_list(activation), as_list(output)]
    variants = build_variants(*dims, ov)
    seeds = plan_seeds(seed, repeats)
    check_workers(workers, scfg)
    target = new_target("compare", run_dir)
    tracker = open_tracker(mlflow, mlflow_experiment, variants[0].config.mlflow)
    ui.writing_to(target)
    from mnist_cli.comparison.session import compare_into
    from mnist_cli.runs.lock import writing

    with writing(target, "compare", scfg, fresh=True):
        runs = compare_into(variants, seeds, target, scfg, ui, redact_command(
            command or call_text("compare", dims[0] or None, ov, activation=dims[1],
                                 output=dims[2], repeats=repeats, run_dir=run_dir,
                                 strategy=strategy)), workers=workers)
    if tracker is not None:
        log_to(tracker, target, ui)
    summary = runs.summary
    table = pd.DataFrame([{k: v for k, v in e.items() if not isinstance(v, list | dict)}
                          for e in summary["variants"]])
    return Comparison(Path(summary["compare_dir"]), summary["winner"], table,
                      pd.DataFrame(summary["pairs"]), sentences(summary), summary, runs.chief)


@checked_keywords
def gradcheck(config: ConfigSource = None, *, model: str = "config", digit: int | None = None,
              batch: int = 64, params: int | str = 100, epsilon: float = 1e-5, seed: int = 0,
              activation: str | None = None, sets: Any = None, data: str | None = None,
              image_shape: Any = None, data_dir: str | None = None,
              label_column: str | None = None, pixel_max: int | None = None,
              run_dir: str | Path | None = None, directions: int = 16,
              backend: str | None = None, progress: Progress = False) -> GradCheck:
    """Compare autodiff gradients with float64 finite differences, like `mnist-cli
    gradcheck`: `verdict`, `exit_code` and the whole check (`report`, `check`). `backend`:
    tensorflow or jax (default: the config's `training.backend`), chosen before Keras loads;
    JAX checks in its x64 mode, for the check only."""
    from mnist_cli.gradients.command import gradcheck as run_check
    from mnist_cli.gradients.command import parse_params

    ui = Display.of(progress)
    model = str(getattr(model, "value", model))
    if model not in ("config", "logistic"):
        raise UsageError(f"--model {model!r}: choose config or logistic")
    cfg = resolve_config(config, Overrides(
        activation=activation, sets=sets, data=data, image_shape=image_shape,
        data_dir=data_dir, label_column=label_column, pixel_max=pixel_max, backend=backend))
    ui.notify(f"checking gradients of {'logistic' if model == 'logistic' else cfg.name} on "
              f"{cfg.training.backend}")
    check = run_check(cfg, model=model, batch=batch, params=parse_params(str(params)),
                      epsilon=epsilon, seed=seed, digit=digit, directions=directions,
                      run_dir=Path(run_dir) if run_dir is not None else None)
    return GradCheck(check.verdict, check.exit_code, check.reason, check.to_dict(), check)


@checked_keywords
def export(target: str | Path, *, format: str = "saved-model", quantize: str | None = None,
           out: str | Path | None = None, force: bool = False) -> Any:
    """Export a run's model (uint8 images in, class probabilities out), like `mnist-cli
    export`: SavedModel, TFLite (`quantize` dynamic or float16) or ONNX; the ExportResult."""
    from mnist_cli.modeling.export import check_choice, export_model

    check_choice(format, quantize)  # before TensorFlow loads
    return export_model(target, format, quantize, Path(out) if out is not None else None,
                        force)


@checked_keywords
def tune(config: ConfigSource = None, *, space: str | Path | dict[str, Any] | None = None,
         trials: int = 20, timeout: float | None = None, storage: str | None = None,
         study: str | None = None, workers: int = 1, sampler: str = "tpe",
         pruner: str = "median", metric: str = "val_accuracy", heartbeat: int = 10,
         seed: int | None = None, epochs: int | None = None, batch_size: int | None = None,
         sets: Any = None,
         data: str | None = None, test_data: str | None = None,
         validation_split: float | None = None, data_dir: str | None = None,
         run_dir: str | Path | None = None, no_plots: bool = False,
         progress: Progress = False, command: list[str] | None = None,
         mlflow: str | None = None, mlflow_experiment: str | None = None) -> Any:
    """Search hyperparameters like `mnist-cli tune` (Optuna; `pip install 'mnist-cli[tune]'`)
    and return a `TuneResult`: best params and value, the trials DataFrame, the best config's
    run, tested once. `space`: a YAML path, a shipped space's name or a mapping (default: the
    config's shipped space); `sets`: fixed overrides for every trial. `mlflow`: a tracking
    URI (or `env`): a parent run with one child per trial, logged when the session ends."""
    from rich.markup import escape

    from mnist_cli.display import plain
    from mnist_cli.tuning.session import run_tune, silent
    from mnist_cli.tuning.settings import TrialLog, TuneSettings

    ui = Display.of(progress)
    settings = TuneSettings(
        config=config, space=space, trials=trials, timeout=timeout, storage=storage,
        study=study, workers=workers, sampler=sampler, pruner=pruner, metric=metric,
        seed=seed, run_dir=Path(run_dir) if run_dir is not None else None,
        plots=not no_plots, command=redact_command(command or ["mnist_cli.tune"]),
        heartbeat=heartbeat,
        overrides=Overrides(epochs=epochs, batch_size=batch_size, data=data,
                            test_data=test_data, validation_split=validation_split,
                            data_dir=data_dir, sets=sets))
    tracker = open_tracker(mlflow, mlflow_experiment,
                           resolve_config(config, settings.overrides).mlflow)
    log = TrialLog(metric)
    shown = ui.mode != "none"
    result = run_tune(settings, on_trial=(lambda rec: plain(log.line(rec))) if shown else silent,
                      notify=lambda line: ui.notify(escape(line)))
    if tracker is not None:
        log_to(tracker, Path(result.run_dir), ui)
    return result


def log_to(tracker: Any, target: Path, ui: Display) -> str | None:
    """Upload a finished directory (run, compare or tune) and report how it went."""
    from mnist_cli.tracking.session import log_directory, report

    _, run_id = log_directory(tracker, target)
    report(tracker, ui, target, run_id)
    return run_id


@checked_keywords
def log(run_dir: str | Path, *, mlflow: str | None = None,
        mlflow_experiment: str | None = None, progress: Progress = False) -> Any:
    """Upload (or complete) a finished run, compare or tune directory to MLflow, like
    `mnist-cli log`; running it again adds nothing. `mlflow`: the tracking URI (or `env`;
    default: the run's config.yaml `mlflow.uri`). Returns the `LogResult`."""
    from mnist_cli.tracking.session import log_command

    return log_command(Path(run_dir), mlflow, mlflow_experiment, Display.of(progress))

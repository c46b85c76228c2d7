"""The commands as Python functions: keyword arguments named like the flags, typed results,
the tool's own exceptions (same messages as the CLI), nothing printed unless progress=True.

Each function resolves its inputs exactly as the CLI does and calls the same flow
(`mnist_cli.flows`), so the run directories are identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mnist_cli.api.options as opt
from mnist_cli.api.display import Display
from mnist_cli.api.results import Comparison, Evaluation, Prediction, Run, load_run
from mnist_cli.config import resolve_config
from mnist_cli.config.resolve import ConfigSource
from mnist_cli.flows.train import new_target, resume_target, train_flow
from mnist_cli.runs.rundir import METRICS


def _given(frame_locals: dict[str, Any]) -> dict[str, Any]:
    """The call's keyword arguments, `**options` merged in."""
    given = {k: v for k, v in frame_locals.items() if k != "options"}
    return {**given, **frame_locals.get("options", {})}


def train(config: ConfigSource = None, *, activation: str | None = None,
          epochs: int | None = None, batch_size: int | None = None,
          optimizer: str | None = None, learning_rate: float | None = None,
          seed: int | None = None, data: str | None = None, sets: Any = None,
          run_dir: str | Path | None = None, resume: str | Path | None = None,
          deterministic: bool | None = None, no_plots: bool = False,
          strategy: str = "auto", progress: bool = False, **options: Any) -> Run:
    """Train a model and write a run directory, like `mnist-cli train`.

    `config`: a shipped name (mlp_relu, mlp_softmax, cnn), a YAML path, a RunConfig or a
    mapping (validated like a YAML file; never modified). Every other `train` flag works as a
    keyword named like it (test_data, validation_split, image_shape, data_dir, device, ...);
    `sets` takes ["training.epochs=3"] or {"training.epochs": 3}.
    """
    given = _given(locals())
    command = opt.command_line("train", given)
    for key in ("run_dir", "resume", "no_plots", "progress"):
        given.pop(key)
    config, deterministic = given.pop("config"), given.pop("deterministic")
    scfg = opt.strategy_from(given)
    det = [] if deterministic is None else [f"training.deterministic={deterministic}"]
    overrides = opt.overrides_from(given, det)
    extras = opt.flow_extras("train", given, train_flow, train, opt.FLAGS)
    ui = Display(progress)
    if resume is not None:
        flags = resume_flags(config, overrides, run_dir, deterministic)
        cfg, target = resume_target(Path(resume), flags, notify=ui.notify)
    else:
        cfg = resolve_config(config, overrides)
        target = new_target(cfg.name, Path(run_dir) if run_dir is not None else None)
    result = train_flow(cfg, target, scfg, plots=not no_plots, callbacks=ui.callbacks(cfg.name),
                        progress=ui.progress, notify=ui.notify, command=command, **extras)
    if not (Path(target) / METRICS).is_file():  # a multi-worker non-chief keeps no files
        return Run(Path(result.run_dir), result.metrics, None, result.model, cfg)
    return load_run(target, model=result.model)


def resume_flags(config: Any, overrides: Any, run_dir: Any,
                 deterministic: bool | None) -> dict[str, Any]:
    """The config-changing options given with `resume`, named as the CLI names them."""
    flags = {f"--{k.replace('_', '-')}": v for k, v in vars(overrides).items() if k != "sets"}
    sets = overrides.sets[1:] if deterministic is not None else overrides.sets
    return {"--config": config, **flags, "--set": sets, "--run-dir": run_dir,
            "--[no-]deterministic": deterministic is not None}


def evaluate(target: str | Path, *, data: str | None = None, no_plots: bool = False,
             strategy: str = "auto", progress: bool = False, **options: Any) -> Evaluation:
    """Score a run directory's (or .keras file's) model, like `mnist-cli evaluate`: writes
    evaluation.json, confusion_matrix.png and errors.png into the run directory.
    Also image_shape, data_dir and the strategy flags."""
    given = _given(locals())
    import pandas as pd

    from mnist_cli.flows.evaluate import evaluate_flow

    for key in ("target", "data", "no_plots", "progress"):
        given.pop(key)
    scfg = opt.strategy_from(given)
    shape = given.pop("image_shape", None)
    extras = opt.flow_extras("evaluate", given, evaluate_flow, evaluate,
                             {"image_shape", *opt.STRATEGY_KEYS})
    done = evaluate_flow(target, scfg, data=data, plots=not no_plots,
                         image_shape=[int(d) for d in shape] if shape else None,
                         notify=Display(progress).notify, **extras)
    matrix = done.report["confusion_matrix"]
    confusion = pd.DataFrame(matrix, index=pd.Index(range(len(matrix)), name="true"),
                             columns=pd.Index(range(len(matrix)), name="predicted"))
    return Evaluation(done.report, pd.DataFrame(done.report["per_class"]), confusion,
                      done.result.probs, done.loaded.model, done.loaded.run_dir, done.files)


def predict(target: str | Path, *, data: str, out: str | Path | None = None,
            format: str = "csv", force: bool = False, image_shape: Any = None,
            data_dir: str | None = None, progress: bool = False, **options: Any) -> Prediction:
    """Label every image of `data`, like `mnist-cli predict`; the file goes to `out` or the
    run directory and is never overwritten unless force=True."""
    from mnist_cli.flows.evaluate import predict_flow

    extras = opt.flow_extras("predict", dict(options), predict_flow, predict)
    result, source = predict_flow(
        target, data, out=Path(out) if out is not None else None, fmt=format, force=force,
        image_shape=[int(d) for d in image_shape] if image_shape else None, data_dir=data_dir,
        progress_for=predict_progress if progress else None, **extras)
    return Prediction(Path(result.path), result.format, result.examples, result.label_counts,
                      source, read_predictions(Path(result.path), result.format))


def predict_progress(examples: int) -> tuple[Any, list[Any]]:
    """The CLI's prediction bar, for progress=True."""
    from mnist_cli.cli.progress import BatchDisplay
    from mnist_cli.scoring.evaluation import BATCH_SIZE

    display = BatchDisplay("bar", "predict", -(-examples // BATCH_SIZE), examples)
    return display, display.callbacks()


def read_predictions(path: Path, fmt: str) -> Any:
    """The written file as a DataFrame (what a notebook wants to look at)."""
    import json

    import pandas as pd

    if fmt == "json":
        return pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["predictions"])
    return pd.read_csv(path)


def compare(config: Any = None, *, activation: Any = None, output: Any = None,
            repeats: int = 1, epochs: int | None = None, seed: int | None = None,
            data: str | None = None, run_dir: str | Path | None = None,
            strategy: str = "auto", progress: bool = False, **options: Any) -> Comparison:
    """Train several variants on the same data and seeds and compare them (McNemar's test),
    like `mnist-cli compare`. `config`, `activation` and `output` take one value or a list;
    with neither config nor activation: softmax vs relu, the seed notebook's experiment."""
    given = _given(locals())
    import pandas as pd

    from mnist_cli.comparison import build_variants, plan_seeds
    from mnist_cli.comparison.report import sentences
    from mnist_cli.flows.compare import compare_flow

    command = opt.command_line("compare", given)
    for key in ("run_dir", "progress", "repeats"):
        given.pop(key)
    dims = [opt.as_list(given.pop(k)) for k in ("config", "activation", "output")]
    scfg = opt.strategy_from(given)
    overrides = opt.overrides_from(given)
    extras = opt.flow_extras("compare", given, compare_flow, compare, opt.FLAGS)
    variants = build_variants(*dims, overrides)
    seeds = plan_seeds(seed, repeats)
    target = new_target("compare", Path(run_dir) if run_dir is not None else None)
    ui = Display(progress)
    comp = compare_flow(variants, seeds, target, scfg, callbacks_for=ui.callbacks,
                        progress=ui.progress, notify=ui.notify, command=command, **extras)
    summary = comp.summary
    table = pd.DataFrame([{k: v for k, v in e.items() if not isinstance(v, list | dict)}
                          for e in summary["variants"]])
    return Comparison(Path(summary["compare_dir"]), summary["winner"], table,
                      pd.DataFrame(summary["pairs"]), sentences(summary), summary)


def gradcheck(config: ConfigSource = None, *, model: str = "config", digit: int | None = None,
              batch: int = 64, params: int | str = 200, epsilon: float = 1e-5, seed: int = 0,
              run_dir: str | Path | None = None, progress: bool = False,
              **options: Any) -> Any:
    """Compare autodiff gradients with float64 finite differences, like `mnist-cli
    gradcheck`; returns the GradcheckResult (`verdict`, `exit_code`, per-variable checks).
    Config flags (activation, data, sets, ...) work as in train()."""
    from mnist_cli.gradients.command import gradcheck as run_check
    from mnist_cli.gradients.command import parse_params

    given = dict(options)
    overrides = opt.overrides_from(given)
    extras = opt.flow_extras("gradcheck", given, run_check, gradcheck,
                             opt.OVERRIDE_KEYS)
    if model not in ("config", "logistic"):
        from mnist_cli.errors import UsageError

        raise UsageError(f"--model {model!r}: choose config or logistic")
    cfg = resolve_config(config, overrides)
    name = "logistic" if model == "logistic" else cfg.name
    Display(progress).notify(f"checking gradients of {name}")
    return run_check(cfg, model=model, batch=batch, params=parse_params(str(params)),
                     epsilon=epsilon, seed=seed, digit=digit,
                     run_dir=Path(run_dir) if run_dir is not None else None, **extras)

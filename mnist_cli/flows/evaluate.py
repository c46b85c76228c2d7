"""The `evaluate` and `predict` flows: load a model safely, check the data, score or label."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnist_cli.distribute import StrategyConfig
from mnist_cli.flows import Notify, silent

# (progress display or None, Keras callbacks driving it), given the number of examples.
ProgressFor = Callable[[int], tuple[AbstractContextManager[Any] | None, list[Any]]]


@dataclass
class Evaluated:
    """An evaluation: the dict `--json` prints, the loaded model, the core result, files."""

    report: dict[str, Any]
    loaded: Any
    result: Any
    files: dict[str, str] = field(default_factory=dict)
    chief: bool = True


def evaluate_flow(target: Path | str, scfg: StrategyConfig, *, data: str | None = None,
                  image_shape: list[int] | None = None, data_dir: str | None = None,
                  label_column: str | None = None, pixel_max: int | None = None,
                  class_names: list[str] | str | None = None,
                  plots: bool = True, notify: Notify = silent,
                  progress_for: ProgressFor | None = None) -> Evaluated:
    """Score a run directory's (or .keras file's) model; only the multi-worker chief writes
    evaluation.json and the PNGs."""
    from mnist_cli.distribute import make_strategy, summary_line
    from mnist_cli.modeling.io import load_model
    from mnist_cli.scoring.evaluation import (
        BATCH_SIZE,
        evaluate_model,
        load_split,
        model_class_names,
        save_evaluation,
    )

    dist, desc = make_strategy(scfg)
    loaded = load_model(target, strategy=dist)
    model_class_names(loaded, class_names)  # a wrong count is refused before loading data
    notes: list[str] = []
    split, source = load_split(loaded, data, image_shape=image_shape, data_dir=data_dir,
                               require_labels=True, label_column=label_column or "auto",
                               pixel_max=pixel_max, notes=notes)
    report_notes(notes, notify)
    notify(summary_line(desc, BATCH_SIZE))
    notify(f"evaluating {loaded.model_path} on {source} ({len(split):,} examples)")
    progress, callbacks = (progress_for or no_progress)(len(split))
    with progress or nullcontext():
        result = evaluate_model(loaded, split, source, callbacks=callbacks, strategy=dist,
                                class_names=class_names)
    files: dict[str, str] = {}
    chief = desc.is_chief
    if chief:  # other multi-worker tasks compute the same, write nothing
        files = save_evaluation(loaded, result, split.x, plots=plots)
    report = {**result.to_dict(), "output_form": loaded.output_form, "files": files}
    return Evaluated(report, loaded, result, files, chief)


def predict_flow(target: Path | str, data: str, *, out: Path | None = None,
                 fmt: str = "csv", force: bool = False, image_shape: list[int] | None = None,
                 data_dir: str | None = None, label_column: str | None = None,
                 pixel_max: int | None = None, class_names: list[str] | str | None = None,
                 progress_for: ProgressFor | None = None,
                 notify: Notify = silent) -> tuple[Any, str]:
    """Label every image of `data` into a csv / Kaggle csv / JSON file, never replacing an
    existing file unless `force`; returns (PredictResult, data source)."""
    from mnist_cli.modeling.io import load_model
    from mnist_cli.predictions import check_format, check_target, default_out, predict_to_file
    from mnist_cli.scoring.evaluation import load_split, model_class_names

    fmt = check_format(fmt)
    loaded = load_model(target)
    model_class_names(loaded, class_names)  # a wrong count is refused before reading data
    path = Path(out) if out is not None else default_out(loaded, data, fmt)
    check_target(path, force)
    notes: list[str] = []
    split, source = load_split(loaded, data, image_shape=image_shape, data_dir=data_dir,
                               require_labels=False, label_column=label_column or "auto",
                               pixel_max=pixel_max, notes=notes)
    report_notes(notes, notify)
    progress, callbacks = (progress_for or no_progress)(len(split))
    with progress or nullcontext():
        result = predict_to_file(loaded, split, path, fmt, source=source, force=force,
                                 callbacks=callbacks, class_names=class_names)
    return result, source


def report_notes(notes: list[str], notify: Notify) -> None:
    """Data notes (pixel scale, layout) as status lines; notify's lines are rich markup."""
    from rich.markup import escape

    for note in notes:
        notify(f"[yellow]note:[/] {escape(note)}")


def no_progress(examples: int) -> tuple[None, list[Any]]:
    return None, []

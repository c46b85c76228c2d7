"""One evaluation as `evaluate` does it: strategy, model, data, scores, files; called by
`mnist_cli.api.evaluate`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_cli.backend import current_backend
from mnist_cli.display import Display
from mnist_cli.distribute import StrategyConfig


def score(target: str | Path, scfg: StrategyConfig, ui: Display, *, data: str | None,
          image_shape: list[int] | None, data_dir: str | None, label_column: str | None,
          pixel_max: int | None, class_names: Any, plots: bool,
          backend: str | None = None) -> tuple[Any, Any, dict, bool]:
    """Score the model of `target` on its test split or `data`, on `backend` (None: the
    run's own, see `scoring.backends`); only the multi-worker chief writes evaluation.json
    and the PNGs. Returns (loaded model, result, files, chief)."""
    from mnist_cli.distribute import make_strategy, summary_line
    from mnist_cli.modeling.io import load_model
    from mnist_cli.scoring import evaluation as ev
    from mnist_cli.scoring.backends import check_strategy, choose_backend

    notes: list[str] = []
    check_strategy(choose_backend(backend, target, notes), scfg)  # before Keras loads
    dist, desc = make_strategy(scfg)
    loaded = load_model(target, strategy=dist)
    ev.model_class_names(loaded, class_names)  # a wrong count is refused before loading data
    split, source = ev.load_split(loaded, data, image_shape=image_shape, data_dir=data_dir,
                                  require_labels=True, label_column=label_column or "auto",
                                  pixel_max=pixel_max, notes=notes)
    ui.notes(notes)
    ui.notify(summary_line(desc, ev.BATCH_SIZE))
    ui.notify(f"evaluating {loaded.model_path} on {source} ({len(split):,} examples, "
              f"{current_backend()})")
    shown = ui.batches("evaluate", len(split), ev.BATCH_SIZE)
    with shown:
        result = ev.evaluate_model(loaded, split, source, callbacks=shown.callbacks(),
                                   strategy=dist, class_names=class_names)
    files = ev.save_evaluation(loaded, result, split.x, plots=plots) if desc.is_chief else {}
    return loaded, result, files, desc.is_chief

"""Load a trained model from a run directory or a `.keras` file, safely.

Keras's safe mode stays on, so an archive that would run arbitrary code (Lambda layers,
pickled functions) is refused instead of executed.
"""

from __future__ import annotations

import zipfile
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnist_cli.config.resolve import config_from_dict
from mnist_cli.config.schema import RunConfig
from mnist_cli.config.yaml_read import load_yaml
from mnist_cli.errors import UsageError
from mnist_cli.runs.rundir import CONFIG, MODEL

MODEL_FILE = MODEL
CONFIG_FILE = CONFIG


@dataclass
class LoadedModel:
    """A model plus what its run recorded about it (config, output form)."""

    model: Any
    model_path: Path
    run_dir: Path | None
    config: RunConfig | None
    output_form: str

    @property
    def image_shape(self) -> tuple[int, ...]:
        """(H, W, C) the model's input layer accepts."""
        return tuple(int(d) for d in self.model.input_shape[1:])

    @property
    def num_classes(self) -> int:
        return int(self.model.output_shape[-1])

    @property
    def out_dir(self) -> Path:
        """Where derived files go: the run directory, else the model file's folder."""
        return self.run_dir if self.run_dir is not None else self.model_path.parent

    @property
    def scale(self) -> bool:
        return self.config.data.scale if self.config is not None else True


def locate(target: Path) -> tuple[Path, Path | None]:
    """(model file, run directory or None) for a run directory or a .keras path."""
    target = Path(target)
    if not target.exists():
        raise UsageError(f"{target}: no such run directory or model file; "
                         "pass a run directory written by `mnist-cli train` or a .keras file")
    if target.is_dir():
        model_path = target / MODEL_FILE
        if not model_path.is_file():
            raise UsageError(f"{target}: no {MODEL_FILE} in this directory; the run did not "
                             "finish (see its metrics.json) or it is not a run directory")
        return model_path, target
    run_dir = target.parent if (target.parent / CONFIG_FILE).is_file() else None
    return target, run_dir


def check_archive(path: Path) -> None:
    """Refuse anything that is not a Keras v3 archive before handing it to Keras."""
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise UsageError(f"{path}: not a Keras model archive (a .keras zip file); pass a run "
                         "directory or a file saved with model.save('name.keras')")


def read_run_config(run_dir: Path | None) -> RunConfig | None:
    """The run's saved config.yaml, or None when there is none."""
    if run_dir is None or not (run_dir / CONFIG_FILE).is_file():
        return None
    path = run_dir / CONFIG_FILE
    raw = load_yaml(path.read_text(encoding="utf-8")) or {}
    return config_from_dict(raw, source=str(path))


def infer_output_form(model: Any) -> str:
    """Without a config: a softmax last layer means probabilities, anything else logits."""
    activation = getattr(model.layers[-1], "activation", None) if model.layers else None
    return "probabilities" if getattr(activation, "__name__", "") == "softmax" else "logits"


def load_model(target: Path | str, strategy: Any = None) -> LoadedModel:
    """Load a run directory's model (or a .keras file) with Keras safe mode on; inside
    `strategy.scope()` when a distribution strategy is given, so predictions use it."""
    model_path, run_dir = locate(Path(target))
    check_archive(model_path)
    from mnist_cli.backend import import_keras

    keras = import_keras()
    try:
        with strategy.scope() if strategy is not None else nullcontext():
            model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises ValueError/TypeError with the reason
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{model_path}: cannot load this Keras model: {reason}") from None
    config = read_run_config(run_dir)
    form = config.model.output if config is not None else infer_output_form(model)
    return LoadedModel(model, model_path, run_dir, config, form)

"""YAML + flags -> a validated RunConfig, with every problem reported at once.

No TensorFlow here: config mistakes must be reported instantly. Layer classes and activation
names are checked here against lists known without Keras; other layer arguments later, by
`mnist_cli.modeling.build.check_layers`, which needs Keras.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import fields
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_type_hints

from mnist_cli.config.layer_names import ACTIVATIONS, ALLOWED_LAYERS, FORBIDDEN_LAYERS
from mnist_cli.config.schema import SECTIONS, LayerSpec, ModelConfig, RunConfig
from mnist_cli.config.typecheck import coerce, describe, matches
from mnist_cli.config.yaml_read import YAMLError, load_yaml
from mnist_cli.errors import ConfigError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

# The shipped configs live inside the package (so wheels carry them); the top-level
# `configs/` of a clone is a symlink to this folder: one copy, no drift.
CONFIG_FOLDER = "configs"
DEFAULT_CONFIG = "mlp_relu"
EARLY_STOPPING_NEEDS_VALIDATION = (
    "training.early_stopping_patience: {} watches val_loss, but data.validation_split is 0, "
    "so there is no validation data and it would never stop; hold some out with "
    "--validation-split 0.1 (or --set data.validation_split=0.1), or turn early stopping "
    "off with --set training.early_stopping_patience=0")

# Keys that earlier versions accepted (and wrote into runs' config.yaml) but never used:
# a config file that sets one is refused with the reason; a saved run's is dropped on reading.
RETIRED_KEYS = {
    "training.loss": "the loss follows model.output (sparse categorical cross-entropy on "
                     "the logits or on the probabilities); delete the key",
}


def suggest(word: str, choices: Any, quote: bool = False) -> str:
    """' (did you mean X?)' (quoted: 'X') when a close match exists, else ''."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[str(word).lower()]] if str(word).lower() in lowered else []
    if not close:
        return ""
    return f" (did you mean {close[0]!r}?)" if quote else f" (did you mean {close[0]}?)"


def activation_problem(name: str) -> str | None:
    """Why `name` is not an activation Keras knows by name (with a "did you mean"), or None."""
    if name in ACTIVATIONS:
        return None
    return (f"unknown activation {name!r}{suggest(name, ACTIVATIONS, quote=True)}; "
            f"use one of keras.activations: {', '.join(sorted(ACTIVATIONS))}")


def shipped_configs() -> dict[str, Traversable]:
    """Shipped configs by short name (`mlp_relu` -> mnist_cli/configs/mlp_relu.yaml), read
    with importlib.resources so they are found in a wheel or zip install too."""
    found = [p for p in (files("mnist_cli") / CONFIG_FOLDER).iterdir() if p.name.endswith(".yaml")]
    return {Path(p.name).stem: p for p in sorted(found, key=lambda p: p.name)}


def find_config(name_or_path: str | Path) -> Path | Traversable:
    """A path as given, or a shipped config's short name."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = shipped_configs()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    hint = suggest(name_or_path, shipped)
    raise ConfigError(
        [f"no such file; give a YAML path or a shipped config: {', '.join(shipped)}{hint}"],
        source=str(name_or_path),
    )


def read_yaml(path: Path | Traversable) -> dict[str, Any]:
    """Safe-load one YAML mapping; syntax errors name the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read the file: {exc}"], source=str(path)) from None
    try:
        raw = load_yaml(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            [f"{where}YAML syntax error: {problem} (only plain YAML is accepted)"],
            source=str(path),
        ) from None
    if raw is None:
        raise ConfigError(["the file is empty; start from configs/mlp_relu.yaml"], str(path))
    if not isinstance(raw, dict):
        raise ConfigError(["the top level must be a mapping (name, model, training, data, mlflow)"],
                          source=str(path))
    return raw


def parse_layers(raw: Any, problems: list[str]) -> list[LayerSpec]:
    """`- Dense: {units: 10}` items -> LayerSpec, recording every malformed entry."""
    if not isinstance(raw, list) or not raw:
        problems.append("model.layers: must be a non-empty list like `- Dense: {units: 10}`")
        return []
    layers: list[LayerSpec] = []
    for i, item in enumerate(raw):
        where = f"model.layers[{i}]"
        if isinstance(item, str):
            item = {item: {}}
        if not isinstance(item, dict) or len(item) != 1:
            problems.append(f"{where}: write each layer as `- ClassName: {{arg: value}}`")
            continue
        ((name, kwargs),) = item.items()
        kwargs = {} if kwargs is None else kwargs
        if not isinstance(kwargs, dict):
            problems.append(f"{where} ({name}): arguments must be a mapping, got {kwargs!r}")
            continue
        if name in FORBIDDEN_LAYERS:
            problems.append(f"{where}: {name} is not allowed (it can run arbitrary code)")
        elif name not in ALLOWED_LAYERS:
            problems.append(
                f"{where}: unknown layer class {name!r}{suggest(name, ALLOWED_LAYERS)}; "
                "use a class from keras.layers"
            )
        activation = kwargs.get("activation")
        if isinstance(activation, str) and (bad := activation_problem(activation)):
            problems.append(f"{where} ({name}): {bad}")
        layers.append(LayerSpec(str(name), dict(kwargs)))
    return layers


def fill_section(obj: Any, raw: Any, section: str, problems: list[str]) -> None:
    """Copy `raw` into dataclass `obj`, checking keys and types."""
    if raw is None:
        return
    if not isinstance(raw, dict):
        problems.append(f"{section}: must be a mapping, got {type(raw).__name__}")
        return
    hints = get_type_hints(type(obj))
    names = [f.name for f in fields(obj)]
    for key, value in raw.items():
        where = f"{section}.{key}"
        if where in RETIRED_KEYS:
            problems.append(f"{where}: not a config key any more: {RETIRED_KEYS[where]}")
        elif key not in names:
            problems.append(f"{where}: unknown key{suggest(key, names)}; valid: {', '.join(names)}")
        elif section == "model" and key == "layers":
            obj.layers = parse_layers(value, problems)
        elif not matches(value, hints[key]):
            problems.append(f"{where}: expected {describe(hints[key])}, got {value!r}")
        else:
            setattr(obj, key, coerce(value, hints[key]))


def check_values(cfg: RunConfig, problems: list[str]) -> None:
    """Range checks that types alone cannot express."""
    t, d = cfg.training, cfg.data
    if t.epochs < 1:
        problems.append(f"training.epochs: must be >= 1, got {t.epochs}")
    if t.batch_size < 1:
        problems.append(f"training.batch_size: must be >= 1, got {t.batch_size}")
    if not t.learning_rate > 0 or math.isinf(t.learning_rate):  # NaN fails the first test
        problems.append(f"training.learning_rate: must be a finite number > 0, got "
                        f"{t.learning_rate}")
    if t.early_stopping_patience < 0:
        problems.append("training.early_stopping_patience: must be >= 0 (0 turns it off)")
    elif t.early_stopping_patience > 0 and d.validation_split == 0:
        problems.append(EARLY_STOPPING_NEEDS_VALIDATION.format(t.early_stopping_patience))
    if t.steps_per_execution < 1:
        problems.append("training.steps_per_execution: must be >= 1")
    if t.engine == "fit":
        problems.append("training.engine: fit was removed: every strategy now trains on the "
                        "one engine (exact resume, exact-step divergence, one example order); "
                        "delete the key or set it to fused")
    elif t.engine != "fused":
        problems.append(f"training.engine: must be fused, got {t.engine!r}")
    if t.seed is not None and t.seed < 0:
        problems.append(f"training.seed: must be >= 0, got {t.seed}")
    if not 0 <= d.validation_split < 1:
        problems.append(f"data.validation_split: must be in [0, 1), got {d.validation_split}")
    if d.image_shape is not None and (len(d.image_shape) != 2 or min(d.image_shape) < 1):
        problems.append(f"data.image_shape: must be [height, width], got {d.image_shape}")
    if not d.label_column.strip():
        problems.append("data.label_column: must be auto, first, last or a CSV header name")
    if d.pixel_max is not None and d.pixel_max < 1:
        problems.append(f"data.pixel_max: must be >= 1 (the value that means white) or null "
                        f"to detect it, got {d.pixel_max}")
    from mnist_cli.redact import has_secret

    if cfg.mlflow.uri is not None and has_secret(cfg.mlflow.uri):
        problems.append("mlflow.uri: holds a password or token, which would be copied into "
                        "every run directory; put it in MLFLOW_TRACKING_USERNAME/"
                        "MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) or pass --mlflow")
    if not cfg.mlflow.experiment.strip():
        problems.append("mlflow.experiment: must be a non-empty name")
    from mnist_cli.config.optimizers import OPTIMIZERS
    from mnist_cli.data.class_names import config_problems

    problems.extend(config_problems(d.class_names))

    if t.optimizer.lower() not in OPTIMIZERS:
        problems.append(
            f"training.optimizer: unknown {t.optimizer!r}{suggest(t.optimizer, OPTIMIZERS)}; "
            f"choose one of {', '.join(OPTIMIZERS)}"
        )


def parse_config(raw: dict[str, Any], source: str = "config") -> RunConfig:
    """A raw mapping -> RunConfig, raising one ConfigError listing every problem."""
    problems: list[str] = []
    cfg = RunConfig(model=ModelConfig(layers=[]))
    for key, value in raw.items():
        if key == "name":
            if isinstance(value, str) and value.strip():
                cfg.name = value.strip()
            else:
                problems.append(f"name: expected a non-empty string, got {value!r}")
        elif key in SECTIONS:
            fill_section(getattr(cfg, key), value, key, problems)
        else:
            valid = ["name", *SECTIONS]
            problems.append(f"{key}: unknown top-level key{suggest(key, valid)}; "
                            f"valid: {', '.join(valid)}")
    if "model" not in raw or not cfg.model.layers and not any("layers" in p for p in problems):
        problems.append("model.layers: missing; list the layers, e.g. `- Dense: {units: 10}`")
    check_values(cfg, problems)
    if problems:
        raise ConfigError(problems, source=source)
    return cfg

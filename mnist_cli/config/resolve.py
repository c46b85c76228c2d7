"""Flags + YAML -> resolved RunConfig.

Overrides edit the raw mapping (by the dotted paths tune spaces use too, `config.paths`), so
they pass through exactly the same checks as the file.
"""

from __future__ import annotations

import contextlib
import copy
import json
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from mnist_cli.config.load import (
    DEFAULT_CONFIG,
    RETIRED_KEYS,
    activation_problem,
    find_config,
    parse_config,
    read_yaml,
)
from mnist_cli.config.paths import PathError, caused_by, set_path
from mnist_cli.config.schema import SECTIONS, LayerSpec, RunConfig
from mnist_cli.config.yaml_read import YAMLError, load_yaml
from mnist_cli.errors import ConfigError, Origin

# Layers whose `activation` argument `--activation` rewrites.
ACTIVATED = {"Dense", "Conv1D", "Conv2D", "Conv2DTranspose", "SeparableConv2D",
             "DepthwiseConv2D", "EinsumDense"}


@dataclass
class Overrides:
    """Command-line values that replace the file's; None means 'keep the file's value'."""

    activation: str | None = None
    output: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    learning_rate: float | None = None
    seed: int | None = None
    data: str | None = None
    test_data: str | None = None
    validation_split: float | None = None
    image_shape: list[int] | None = None
    data_dir: str | None = None
    sets: list[str] = field(default_factory=list)
    label_column: str | None = None
    pixel_max: int | None = None
    class_names: list[str] | str | None = None
    precision: str | None = None
    backend: str | None = None
    no_tensorboard: bool | None = None

    def __post_init__(self) -> None:
        """Values as flags or API keywords give them -> the forms the config holds."""
        self.sets = set_items(self.sets)
        if self.image_shape is not None:
            self.image_shape = [int(d) for d in self.image_shape]
        if isinstance(self.class_names, str):  # fashion, a,b,c or a FILE (read here)
            from mnist_cli.data.class_names import parse_flag

            self.class_names = parse_flag(self.class_names)


def set_items(sets: Any) -> list[str]:
    """`--set` items as ["training.epochs=3", ...]; the API also takes one string or a mapping
    {"training.epochs": 3} (values written as JSON, which the --set parser reads as YAML)."""
    if sets is None:
        return []
    if isinstance(sets, dict):
        return [f"{key}={json.dumps(value)}" for key, value in sets.items()]
    if isinstance(sets, str):
        return [sets]
    return [str(item) for item in sets]


FLAG_KEYS = {
    "output": "model.output",
    "epochs": "training.epochs",
    "batch_size": "training.batch_size",
    "optimizer": "training.optimizer",
    "learning_rate": "training.learning_rate",
    "seed": "training.seed",
    "data": "data.spec",
    "test_data": "data.test_spec",
    "validation_split": "data.validation_split",
    "image_shape": "data.image_shape",
    "data_dir": "data.data_dir",
    "label_column": "data.label_column",
    "pixel_max": "data.pixel_max",
    "class_names": "data.class_names",
    "precision": "training.precision",
    "backend": "training.backend",
}


def parse_set(item: str) -> tuple[str, Any]:
    """'training.epochs=3' -> ('training.epochs', 3), the value read as YAML."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            [f"--set {item!r}: write it as SECTION.KEY=VALUE, e.g. training.epochs=3"],
            source="--set")
    try:
        value = load_yaml(text) if text.strip() else None
    except YAMLError:
        value = text
    return key.strip(), value


def apply_activation(raw: dict[str, Any], activation: str) -> None:
    """Set `activation` on every hidden layer (all but the last) that takes one."""
    layers = (raw.get("model") or {}).get("layers")
    if not isinstance(layers, list):
        return
    for i, item in enumerate(layers[:-1]):
        if isinstance(item, dict) and len(item) == 1:
            ((name, kwargs),) = item.items()
            if name in ACTIVATED:
                layers[i] = {name: {**(kwargs or {}), "activation": activation}}


def set_flag(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """A flag's value at its key; a file section that is not a mapping (`training: 3`) is
    left as it is, for the file's own check to report."""
    with contextlib.suppress(PathError):
        set_path(raw, dotted, value)


def apply_overrides(raw: dict[str, Any], ov: Overrides) -> dict[str, Any]:
    """A copy of `raw` with flags and --set applied (flags first, --set last). A `--set`
    path that names no place in the config (an index past the end of model.layers, a layer
    of another class) is refused naming that `--set`, every such item at once."""
    raw = copy.deepcopy(raw)
    for attr, dotted in FLAG_KEYS.items():
        value = getattr(ov, attr)
        if value is not None:
            set_flag(raw, dotted, value)
    if ov.activation:
        apply_activation(raw, ov.activation)
    if ov.no_tensorboard:
        set_flag(raw, "training.tensorboard", False)
    problems: list[str] = []
    marks: list[Origin | None] = []
    for item in ov.sets:
        key, value = parse_set(item)
        if key == "name":
            raw["name"] = value
        elif "." not in key:
            problems.append(f"name the section too, e.g. training.{key}")
            marks.append(("sets", item))
        else:
            try:
                set_path(raw, key, value)
            except PathError as exc:
                problems.append(str(exc))
                marks.append(("sets", item))
    if problems:
        raise ConfigError(problems, source="--set", origins=marks)
    return raw


ConfigSource = str | Path | RunConfig | dict[str, Any] | None
"""A YAML path, a shipped config's name, a RunConfig or a plain mapping (Python API)."""


def section_mapping(value: Any) -> Any:
    """A config section (dataclass or mapping) as a plain mapping, deep-copied."""
    if is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in fields(value)}
    if not isinstance(value, dict):
        return copy.deepcopy(value)  # parse_config reports the wrong type
    raw = copy.deepcopy(value)
    if isinstance(raw.get("layers"), list):
        raw["layers"] = [x.to_yaml() if isinstance(x, LayerSpec) else x for x in raw["layers"]]
    return raw


def read_source(config: ConfigSource) -> tuple[dict[str, Any], str, str]:
    """(raw mapping, source named in errors, default name). A RunConfig or mapping built in
    Python becomes the same raw mapping a YAML file gives, so it is validated the same way
    (and the caller's object is never modified)."""
    if isinstance(config, RunConfig):
        raw = {"name": config.name, **{k: section_mapping(getattr(config, k)) for k in SECTIONS}}
        return raw, "config", config.name
    if isinstance(config, dict):
        return {k: section_mapping(v) for k, v in config.items()}, "config", "model"
    path = find_config(config or DEFAULT_CONFIG)
    return read_yaml(path), str(path), Path(path.name).stem


def resolve_config(config: ConfigSource = None, overrides: Overrides | None = None) -> RunConfig:
    """The config a run will use: file (or the default), then flags, then validation. A
    problem with a value a flag (or --set) put there is reported under that flag's name. Its
    `training.backend` is selected for this process (a UsageError if Keras already runs on
    another)."""
    overrides = overrides or Overrides()
    base, source, name = read_source(config)
    problems: list[str] = []
    marks: list[Origin | None] = []
    if overrides.activation and (bad := activation_problem(overrides.activation)):
        problems, marks = [bad], [("activation", None)]
        overrides = replace(overrides, activation=None)  # reported once, not per layer
    raw = apply_overrides(base, overrides)
    raw.setdefault("name", name)
    try:
        cfg = parse_config(raw, source=source)
    except ConfigError as exc:
        exc = attribute(exc, origins(overrides), base)
        problems, marks = problems + exc.problems, marks + exc.origins
    if problems:
        raise ConfigError(problems, source, marks)
    from mnist_cli.backend import select_backend

    select_backend(cfg.training.backend)  # before anything imports Keras
    check_set_layers(cfg, overrides, base, source)
    return cfg


def check_set_layers(cfg: RunConfig, overrides: Overrides, base: dict[str, Any],
                     source: str) -> None:
    """When a --set changed model.layers, build the layers now (Keras), so a bad layer
    argument it gave is reported under that --set rather than later under the config file."""
    where = origins(overrides)
    if not any(key == "model.layers" or key.startswith("model.layers.") for key, _ in where):
        return
    from mnist_cli.modeling.build import check_layers

    try:
        check_layers(cfg.model, source=source)
    except ConfigError as exc:
        raise attribute(exc, where, base) from None


def origins(ov: Overrides) -> list[tuple[str, Origin]]:
    """(dotted config key, the flag or --set item that set it), in the order applied."""
    found: list[tuple[str, Origin]] = [(dotted, (attr, None)) for attr, dotted
                                       in FLAG_KEYS.items() if getattr(ov, attr) is not None]
    return found + [(item.partition("=")[0].strip(), ("sets", item)) for item in ov.sets]


def attribute(exc: ConfigError, where: list[tuple[str, Origin]],
              base: dict[str, Any]) -> ConfigError:
    """`exc` with each problem that an override explains (`paths.caused_by`) marked with
    that flag or --set (the last applied, which won); `base` is the file's mapping."""
    marks = [next((origin for key, origin in reversed(where)
                   if caused_by(problem, key, base)), None) for problem in exc.problems]
    return ConfigError(exc.problems, exc.source, marks) if any(marks) else exc


def config_from_dict(raw: dict[str, Any], source: str) -> RunConfig:
    """Re-read a saved config (e.g. a run directory's config.yaml); keys that earlier versions
    wrote but that are retired (`training.loss`) are dropped, so old runs still load."""
    raw = copy.deepcopy(raw)
    for key in RETIRED_KEYS:
        section, _, name = key.partition(".")
        if isinstance(raw.get(section), dict):
            raw[section].pop(name, None)
    return parse_config(raw, source=source)

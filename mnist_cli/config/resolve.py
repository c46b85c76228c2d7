"""Flags + YAML -> resolved RunConfig.

Overrides edit the raw mapping, so they pass through exactly the same checks as the file.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from mnist_cli.config.load import (
    DEFAULT_CONFIG,
    RETIRED_KEYS,
    find_config,
    parse_config,
    read_yaml,
)
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


def set_path(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """raw['a']['b'] = value for 'a.b', creating the section if needed."""
    *parents, leaf = dotted.split(".")
    node = raw
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = value


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


def apply_overrides(raw: dict[str, Any], ov: Overrides) -> dict[str, Any]:
    """A copy of `raw` with flags and --set applied (flags first, --set last)."""
    raw = copy.deepcopy(raw)
    for attr, dotted in FLAG_KEYS.items():
        value = getattr(ov, attr)
        if value is not None:
            set_path(raw, dotted, value)
    if ov.activation:
        apply_activation(raw, ov.activation)
    if ov.no_tensorboard:
        set_path(raw, "training.tensorboard", False)
    for item in ov.sets:
        key, value = parse_set(item)
        if key == "name":
            raw["name"] = value
        elif "." not in key:
            raise ConfigError([f"--set {item!r}: name the section too, e.g. training.{key}"],
                              source="--set")
        else:
            set_path(raw, key, value)
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
    raw = apply_overrides(base, overrides)
    raw.setdefault("name", name)
    try:
        cfg = parse_config(raw, source=source)
    except ConfigError as exc:
        raise attribute(exc, origins(overrides)) from None
    from mnist_cli.backend import select_backend

    select_backend(cfg.training.backend)  # before anything imports Keras
    return cfg


def origins(ov: Overrides) -> dict[str, Origin]:
    """Dotted config key -> the flag or --set item that set it (--set wins, as applied)."""
    found: dict[str, Origin] = {dotted: (attr, None) for attr, dotted in FLAG_KEYS.items()
                                if getattr(ov, attr) is not None}
    for item in ov.sets:
        found[item.partition("=")[0].strip()] = ("sets", item)
    return found


def attribute(exc: ConfigError, where: dict[str, Origin]) -> ConfigError:
    """`exc` with each problem about a flag-set key marked with that flag."""
    marks = [where.get(problem.split(":", 1)[0]) for problem in exc.problems]
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

"""The search space: a YAML mapping of dotted config keys (as `--set` takes them, list
indexes into `model.layers` included: `mnist_cli.config.paths`) to distributions::

    training.learning_rate: {float: [1.0e-4, 1.0e-1], log: true}
    model.layers.1.Dense.units: {int: [8, 128], log: true}
    activation: {choice: [relu, tanh, softmax]}

`activation` is the `--activation` flag (every hidden layer). The data and the seed are fixed
for a whole study, so trials are compared on one validation split: `data.*` and
`training.seed` are refused. Every problem is reported at once, naming the key (exit 2).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from mnist_cli.config.paths import PathError, place, set_path
from mnist_cli.config.resolve import apply_activation
from mnist_cli.config.yaml_read import YAMLError, load_yaml
from mnist_cli.errors import ConfigError

SPACE_FOLDER = ("configs", "spaces")
KINDS = ("float", "int", "choice")
FLAG_KEYS = ("activation",)
FIXED = {"data": "the data is fixed for a study, so every trial is scored on the same "
                 "validation split; set it with --data/--validation-split instead",
         "training.seed": "the seed is fixed for a study (--seed), so trials differ only in "
                          "their parameters"}


@dataclass(frozen=True)
class Param:
    """One searched key and its distribution."""

    key: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """The trial's value for this key, drawn by the study's sampler."""
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log,
                                       step=self.step)
        if self.kind == "int":
            return trial.suggest_int(self.key, self.low, self.high, log=self.log,
                                     step=self.step or 1)
        return trial.suggest_categorical(self.key, list(self.choices))

    def corners(self) -> list[Any]:
        """Values checked against the config before any trial: both ends, or every choice."""
        return [self.low, self.high] if self.kind != "choice" else list(self.choices)

    def to_yaml(self) -> dict[str, Any]:
        if self.kind == "choice":
            return {"choice": list(self.choices)}
        spec: dict[str, Any] = {self.kind: [self.low, self.high]}
        if self.log:
            spec["log"] = True
        if self.step is not None:
            spec["step"] = self.step
        return spec


def shipped_space(name: str) -> Any:
    """The default space shipped for a shipped config (a Traversable), or None."""
    folder = files("mnist_cli").joinpath(*SPACE_FOLDER)
    candidate = folder / f"{name}.yaml"
    return candidate if candidate.is_file() else None


def read_space(space: str | Path | dict[str, Any] | None,
               config: Any) -> tuple[list[Param], str]:
    """(params, source named in messages) from a file, a shipped space's name, a mapping,
    or (None) the default space of the shipped config `config` names."""
    if isinstance(space, dict):
        return parse_space(space, "space"), "space"
    if space is None:
        name = "mlp_relu" if config is None else config
        found = shipped_space(name) if isinstance(name, str) else None
        if found is None:
            raise ConfigError(["no default search space for this config; write one (see "
                               "docs/tune.md) and pass --space FILE"], source=str(name))
        source = f"the default space of {name} ({SPACE_FOLDER[0]}/{SPACE_FOLDER[1]}/{name}.yaml)"
        return parse_space(read_space_file(found), source), source
    path = Path(space)
    found = path if path.exists() else shipped_space(str(space))
    if found is None:
        raise ConfigError(["no such file (nor a shipped space: mlp_relu, mlp_softmax, cnn)"],
                          source=f"--space {space}")
    return parse_space(read_space_file(found), f"--space {space}"), f"--space {space}"


def read_space_file(path: Any) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError([f"cannot read the space: {first}"], source=str(path)) from None


def parse_space(raw: Any, source: str) -> list[Param]:
    """A mapping of key -> {float|int|choice: ...} -> Params; every problem at once."""
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(["must be a non-empty mapping of config keys to distributions, "
                           "e.g. training.learning_rate: {float: [1.0e-4, 0.1], log: true}"],
                          source=source)
    problems: list[str] = []
    params = [p for key, spec in raw.items()
              if (p := parse_param(str(key), spec, problems)) is not None]
    if problems:
        raise ConfigError(problems, source=source)
    return params


def fixed_reason(key: str) -> str | None:
    for prefix, reason in FIXED.items():
        if key == prefix or key.startswith(prefix + "."):
            return reason
    return None


def parse_param(key: str, spec: Any, problems: list[str]) -> Param | None:
    """One entry; appends to `problems` and returns None when it is malformed."""
    if (reason := fixed_reason(key)) is not None:
        problems.append(f"{key}: cannot be searched: {reason}")
        return None
    if "." not in key and key not in FLAG_KEYS:
        problems.append(f"{key}: name the section too (e.g. training.{key}), or use "
                        "activation for every hidden layer")
        return None
    kinds = [k for k in KINDS if isinstance(spec, dict) and k in spec]
    if len(kinds) != 1:
        problems.append(f"{key}: write one of {{float: [LOW, HIGH]}}, {{int: [LOW, HIGH]}} "
                        f"or {{choice: [A, B, ...]}}, got {spec!r}")
        return None
    extra = set(spec) - {kinds[0], *(() if kinds[0] == "choice" else ("log", "step"))}
    if extra:
        problems.append(f"{key}: unknown option(s) {', '.join(sorted(map(str, extra)))}; "
                        "float and int take log and step, choice takes none")
        return None
    if kinds[0] == "choice":
        return parse_choice(key, spec["choice"], problems)
    return parse_range(key, kinds[0], spec, problems)


def parse_choice(key: str, values: Any, problems: list[str]) -> Param | None:
    if not isinstance(values, list) or not values:
        problems.append(f"{key}: choice needs a non-empty list, got {values!r}")
        return None
    bad = [v for v in values if v is not None and not isinstance(v, bool | int | float | str)]
    if bad:
        problems.append(f"{key}: choices must be numbers, strings, booleans or null, "
                        f"got {bad[0]!r}")
        return None
    return Param(key, "choice", choices=tuple(values))


def parse_range(key: str, kind: str, spec: dict[str, Any], problems: list[str]) -> Param | None:
    bounds, log, step = spec[kind], spec.get("log", False), spec.get("step")
    number = int if kind == "int" else (int, float)
    ok = (isinstance(bounds, list) and len(bounds) == 2
          and all(isinstance(b, number) and not isinstance(b, bool) for b in bounds)
          and all(math.isfinite(b) for b in bounds))
    if not ok:
        problems.append(f"{key}: {kind} needs [LOW, HIGH] ({kind}s), got {bounds!r}")
    elif not bounds[0] < bounds[1]:
        problems.append(f"{key}: LOW must be below HIGH, got {bounds!r}")
    elif not isinstance(log, bool):
        problems.append(f"{key}: log must be true or false, got {log!r}")
    elif log and step is not None:
        problems.append(f"{key}: give log or step, not both")
    elif log and bounds[0] <= 0:
        problems.append(f"{key}: log needs LOW > 0, got {bounds[0]}")
    elif step is not None and (not isinstance(step, number) or isinstance(step, bool)
                               or step <= 0):
        problems.append(f"{key}: step must be a positive {kind}, got {step!r}")
    else:
        low, high = (float(b) for b in bounds) if kind == "float" else bounds
        return Param(key, kind, low, high, log, step)
    return None


def apply_values(base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of the config mapping `base` with a trial's sampled values set."""
    raw = copy.deepcopy(base)
    for key, value in values.items():
        if key in FLAG_KEYS:
            apply_activation(raw, value)
        else:
            set_path(raw, key, value)
    return raw


def missing_path(base: dict[str, Any], key: str) -> str | None:
    """Why `key` does not name a value of the config `base` (a layer's absent argument is
    fine: it is added), or None."""
    if key in FLAG_KEYS:
        return None
    try:
        container, leaf = place(base, key, create=False)
    except PathError as exc:
        return str(exc)
    layer_argument = key.split(".")[:2] == ["model", "layers"] and key.count(".") == 4
    if isinstance(container, dict) and leaf not in container and not layer_argument:
        return f"the config has no key {key}"  # a layer argument may be left to Keras
    return None

"""Checks before any trial runs (all exit 2): the space against the config, validation data
to rank on, and a run directory that is new or a previous tuning session's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_cli.config.load import parse_config
from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import ConfigError, UsageError
from mnist_cli.tuning.space import Param, apply_values, missing_path

# Files that mark a directory as a tuning session's (it may be continued).
TUNE_MARKERS = ("study.db", "tune.json", "trials")


def corner_problem(base: dict[str, Any], key: str, value: Any) -> str | None:
    """Why the config with `key` set to `value` is invalid (layers built by Keras too), or
    None."""
    from mnist_cli.modeling.build import check_layers

    try:
        cfg = parse_config(apply_values(base, {key: value}), source="config")
        if key == "activation" or key.startswith("model."):
            check_layers(cfg.model)
    except ConfigError as exc:
        return "; ".join(exc.problems)
    return None


def output_units(base: dict[str, Any], key: str) -> str | None:
    """The last layer's `units` is the number of classes, which the data decides."""
    parts, last = key.split("."), len(base["model"]["layers"]) - 1
    if parts[:3] == ["model", "layers", str(last)] and parts[4:] == ["units"]:
        return (f"model.layers.{last} is the output layer: its units must equal the number "
                "of classes; search a hidden layer instead")
    return None


def check_space(params: list[Param], base: dict[str, Any], source: str) -> None:
    """Every key names a value of the config, and each end of its range (each choice) gives
    a valid config: a bad space is refused naming the key, before any trial."""
    problems = []
    for param in params:
        why = missing_path(base, param.key) or output_units(base, param.key)
        if why is not None:
            problems.append(f"{param.key}: {why}")
            continue
        for value in param.corners():
            bad = corner_problem(base, param.key, value)
            if bad is not None:
                problems.append(f"{param.key}: {value!r} gives an invalid config: {bad}")
                break
    if problems:
        raise ConfigError(problems, source=source)


def check_validation(cfg: RunConfig) -> None:
    """Trials are ranked on validation data, never on test: a split of 0 is refused."""
    if cfg.data.validation_split == 0:
        raise UsageError("tune ranks trials on validation data, never on the test split, but "
                         "data.validation_split is 0; hold some out with --validation-split "
                         "0.1")


def tune_run_dir(name: str, run_dir: Path | None) -> Path:
    """A new run directory, or (to continue a study) one a tuning session wrote; any other
    existing non-empty directory is refused."""
    from mnist_cli.runs.rundir import check_writable, new_run_dir

    if run_dir is not None and Path(run_dir).is_dir() and any(Path(run_dir).iterdir()):
        if not any((Path(run_dir) / m).exists() for m in TUNE_MARKERS):
            raise UsageError(f"run directory {run_dir} already exists and is not a tuning "
                             "session's; choose another --run-dir (runs are never overwritten)")
        target = Path(run_dir)
    else:
        target = new_run_dir(f"tune-{name}", run_dir)
    check_writable(target)
    return target

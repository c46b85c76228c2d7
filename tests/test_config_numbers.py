"""`1e-3`-style numbers are numbers wherever a config number is read: a YAML config, a
`--set` value, a tune search space and a saved run's config.yaml (PyYAML's YAML 1.1 rules
alone read them as strings, which the config then refused as "expected a number")."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.yaml_read import load_yaml
from mnist_cli.errors import ConfigError

LAYERS = "model:\n  layers: [{Dense: {units: 10}}]\n"


@pytest.mark.parametrize(("text", "value"), [
    ("1e-3", 0.001), ("1E-3", 0.001), ("5e+2", 500.0), ("-2.5e-4", -0.00025), (".5e1", 5.0),
    ("1.0e-4", 0.0001), ("0.01", 0.01), ("3", 3), ("1_000", 1000), ("-.5", -0.5),
])
def test_numbers_read_as_numbers(text: str, value: float) -> None:
    read = load_yaml(f"x: {text}")["x"]
    assert read == value and type(read) is type(value)


@pytest.mark.parametrize("text", ["1e-3x", "e3", "1e", "1.2.3", "'1e-3'", '"2e5"', "relu"])
def test_strings_that_are_not_numbers_stay_strings(text: str) -> None:
    assert isinstance(load_yaml(f"x: {text}")["x"], str)


def test_everything_else_reads_as_safe_load_does() -> None:
    text = ("a: [yes, null, 0x1f, 1:30, .inf, 2001-12-14, ~, 'q', 1.5]\n"
            "b: {c: -3, d: .nan}\n")
    mine, theirs = load_yaml(text), yaml.safe_load(text)
    assert str(mine) == str(theirs)  # str: nan != nan
    with pytest.raises(yaml.YAMLError):
        load_yaml("x: !!python/object/apply:os.system ['true']")
    assert yaml.safe_load("x: 1e-3")["x"] == "1e-3"  # PyYAML's own loader is left alone


def test_config_file_learning_rate(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(LAYERS + "training: {learning_rate: 1e-3}\n")
    assert resolve_config(str(path)).training.learning_rate == 0.001


def test_set_learning_rate() -> None:
    cfg = resolve_config("mlp_relu", Overrides(sets=["training.learning_rate=1e-3"]))
    assert cfg.training.learning_rate == 0.001
    assert resolve_config("mlp_relu", Overrides(sets=["name=1e-3x"])).name == "1e-3x"


def test_a_quoted_number_is_still_a_string(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(LAYERS + "training: {learning_rate: '1e-3'}\n")
    with pytest.raises(ConfigError, match="training.learning_rate: expected a number, got '1e-3'"):
        resolve_config(str(path))


def test_search_space_bounds(tmp_path: Path) -> None:
    from mnist_cli.tuning.space import read_space

    path = tmp_path / "space.yaml"
    path.write_text("training.learning_rate: {float: [1e-4, 3e-2], log: true}\n"
                    "training.batch_size: {choice: [32, 1e2]}\n")
    (rate, batch), _ = read_space(str(path), None)
    assert (rate.low, rate.high, rate.log) == (0.0001, 0.03, True)
    assert batch.choices == (32, 100.0)


def test_saved_run_config(tmp_path: Path) -> None:
    from mnist_cli.modeling.io import read_run_config

    (tmp_path / "config.yaml").write_text(LAYERS + "training: {learning_rate: 2e-3}\n")
    cfg = read_run_config(tmp_path)
    assert cfg is not None and cfg.training.learning_rate == 0.002

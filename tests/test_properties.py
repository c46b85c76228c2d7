"""Property tests for the config loader: any input gives a RunConfig or a ConfigError (never
another exception); valid configs survive the saved-YAML round trip unchanged; a valid config
with one bad key is refused with exactly one problem, which names that key.

(The CSV reader's property tests live in tests/test_data_csv.py.)
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.load import parse_config
from mnist_cli.config.optimizers import OPTIMIZERS
from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import ConfigError

FAST = settings.default.max_examples < 100  # `--hypothesis-profile fast` (make test-fast)
SETTINGS = settings(max_examples=settings.default.max_examples if FAST else 150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
KEYS = st.sampled_from(["name", "model", "training", "data", "layers", "output", "epochs",
                        "batch_size", "learning_rate", "seed", "spec", "validation_split",
                        "image_shape", "Dense", "Lambda", "units", "activation", "scale"])
SCALARS = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=8)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(KEYS | st.text(max_size=6), inner, max_size=4),
                      max_leaves=20)
NAME = st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12)


def no_stopping_without_validation(raw: dict[str, Any]) -> dict[str, Any]:
    """Early stopping needs validation data (refused otherwise), so a valid config with
    validation_split 0 has patience 0."""
    if raw["data"]["validation_split"] == 0:
        raw["training"]["early_stopping_patience"] = 0
    return raw


VALID = st.fixed_dictionaries({
    "name": NAME,
    "model": st.fixed_dictionaries({
        "output": st.sampled_from(["logits", "probabilities"]),
        "layers": st.lists(st.sampled_from([
            {"Flatten": {}}, {"Dense": {"units": 10}}, {"Dropout": {"rate": 0.2}},
            {"Dense": {"units": 25, "activation": "relu"}}]), min_size=1, max_size=4),
    }),
    "training": st.fixed_dictionaries({
        "optimizer": st.sampled_from(sorted(OPTIMIZERS)),
        "learning_rate": st.floats(1e-6, 10.0),
        "epochs": st.integers(1, 1000),
        "batch_size": st.integers(1, 4096),
        "seed": st.none() | st.integers(0, 2**31 - 1),
        "early_stopping_patience": st.integers(0, 50),
        "deterministic": st.booleans(),
        "steps_per_execution": st.integers(1, 64),
    }),
    "data": st.fixed_dictionaries({
        "spec": st.sampled_from(["auto", "digits", "mnist", "train.csv"]),
        "test_spec": st.none() | st.just("test.csv"),
        "validation_split": st.floats(0.0, 0.99),
        "image_shape": st.none() | st.lists(st.integers(1, 64), min_size=2, max_size=2),
        "data_dir": st.none() | st.just("/tmp/tfds"),
        "scale": st.booleans(),
    }),
}).map(lambda raw: no_stopping_without_validation(raw))
BAD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "training.epochs": st.integers(-10**6, 0) | st.text(max_size=5) | st.floats(0.5, 9.5),
    "training.batch_size": st.integers(-10**6, 0) | st.booleans(),
    "training.learning_rate": st.floats(-1e6, 0.0) | st.text(max_size=5),
    "training.seed": st.integers(-10**6, -1) | st.text(min_size=1, max_size=5),
    "training.optimizer": st.text("xyzqjw", min_size=1, max_size=8),
    "training.deterministic": st.integers() | st.just("yes"),
    "data.validation_split": st.floats(1.0, 1e6) | st.floats(-1e6, -1e-9),
    "data.image_shape": st.lists(st.integers(-5, 0), min_size=2, max_size=2)
    | st.lists(st.integers(1, 9), min_size=3, max_size=4),
    "model.output": st.text(max_size=8).filter(lambda s: s not in ("logits", "probabilities")),
}


def outcome(load: Any) -> RunConfig | ConfigError:
    try:
        return load()
    except ConfigError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return exc


def frozen(cfg: RunConfig) -> str:
    """A comparable text of the whole config (NaN-safe, unlike ==)."""
    return json.dumps(cfg.to_dict(), sort_keys=True, default=repr)


def assert_round_trips(cfg: RunConfig) -> None:
    """What `config.yaml` saves parses back to the same config."""
    saved = yaml.safe_dump(cfg.to_dict(), sort_keys=False)
    assert frozen(parse_config(yaml.safe_load(saved), source="saved.yaml")) == frozen(cfg)


@SETTINGS
@given(st.dictionaries(KEYS, VALUES, max_size=5))
@pytest.mark.slow
def test_any_mapping_gives_config_or_config_error(raw: dict) -> None:
    result = outcome(lambda: parse_config(raw, source="prop.yaml"))
    if isinstance(result, RunConfig):
        assert_round_trips(result)
    else:
        assert str(result).startswith("prop.yaml"), str(result)


@SETTINGS
@given(VALID)
@pytest.mark.slow
def test_valid_configs_parse_and_round_trip(raw: dict) -> None:
    cfg = parse_config(raw, source="valid.yaml")
    assert cfg.name == raw["name"]
    assert [{s.class_name: s.kwargs} for s in cfg.model.layers] == raw["model"]["layers"]
    for section in ("training", "data"):
        for key, value in raw[section].items():
            assert getattr(getattr(cfg, section), key) == value, (section, key)
    assert_round_trips(cfg)


@SETTINGS
@given(VALID, st.sampled_from(sorted(BAD_VALUES)), st.data())
def test_one_bad_value_is_refused_naming_its_key(raw: dict, key: str, data: st.DataObject) -> None:
    section, field = key.split(".")
    raw[section][field] = data.draw(BAD_VALUES[key], label=key)
    with pytest.raises(ConfigError) as err:
        parse_config(raw, source="bad.yaml")
    assert len(err.value.problems) == 1, err.value.problems
    assert err.value.problems[0].startswith(f"{key}:"), err.value.problems


@SETTINGS
@given(VALID, st.sampled_from(["model", "training", "data"]), NAME)
def test_one_unknown_key_is_refused_naming_it(raw: dict, section: str, key: str) -> None:
    if key in raw[section]:
        key += "_x"
    raw[section][key] = 1
    with pytest.raises(ConfigError) as err:
        parse_config(raw, source="bad.yaml")
    assert [p.split(":")[0] for p in err.value.problems] == [f"{section}.{key}"]


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_learning_rate_is_refused(value: float) -> None:
    raw = {"model": {"layers": [{"Dense": {"units": 10}}]}, "training": {"learning_rate": value}}
    with pytest.raises(ConfigError, match="training.learning_rate"):
        parse_config(raw, source="bad.yaml")


@SETTINGS
@given(st.text(max_size=200) | VALUES.map(lambda v: yaml.safe_dump(v, allow_unicode=True)))
def test_any_yaml_text_gives_config_or_config_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_text(text, encoding="utf-8")
        result = outcome(lambda: resolve_config(str(path)))
        if isinstance(result, RunConfig):
            assert_round_trips(result)
        else:
            assert str(result).startswith(str(path)), str(result)


@SETTINGS
@given(st.lists(st.text(max_size=30), max_size=3))
def test_any_set_override_gives_config_or_config_error(sets: list[str]) -> None:
    result = outcome(lambda: resolve_config("mlp_relu", Overrides(sets=sets)))
    if isinstance(result, RunConfig):
        assert_round_trips(result)
    else:
        names = {n for s in sets for k in (s, s.split("=")[0].strip()) for n in (k, repr(k))}
        assert any(n in str(result) for n in names - {""}), (sets, str(result))

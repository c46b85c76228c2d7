"""Property tests: the config loader turns any input into a RunConfig or a ConfigError.

(The CSV reader's property tests live in tests/test_data_csv.py.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.load import parse_config
from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import ConfigError

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
KEYS = st.sampled_from(["name", "model", "training", "data", "layers", "output", "epochs",
                        "batch_size", "learning_rate", "seed", "spec", "validation_split",
                        "image_shape", "Dense", "Lambda", "units", "activation", "scale"])
SCALARS = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=8)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(KEYS | st.text(max_size=6), inner, max_size=4),
                      max_leaves=20)


def outcome(load: object) -> RunConfig | ConfigError:
    try:
        return load()  # type: ignore[operator]
    except ConfigError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return exc


@SETTINGS
@given(st.dictionaries(KEYS, VALUES, max_size=5))
def test_any_mapping_gives_config_or_config_error(raw: dict) -> None:
    result = outcome(lambda: parse_config(raw, source="prop.yaml"))
    assert isinstance(result, RunConfig | ConfigError)


@SETTINGS
@given(st.text(max_size=200) | VALUES.map(lambda v: yaml.safe_dump(v, allow_unicode=True)))
def test_any_yaml_text_gives_config_or_config_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_text(text, encoding="utf-8")
        result = outcome(lambda: resolve_config(str(path)))
    assert isinstance(result, RunConfig | ConfigError)
    if isinstance(result, ConfigError):
        assert str(path) in str(result)


@SETTINGS
@given(st.lists(st.text(max_size=30), max_size=3))
def test_any_set_override_gives_config_or_config_error(sets: list[str]) -> None:
    result = outcome(lambda: resolve_config("mlp_relu", Overrides(sets=sets)))
    assert isinstance(result, RunConfig | ConfigError)

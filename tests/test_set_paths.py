"""`--set` takes every path a tune search space takes (list indexes into model.layers
included), through the one path function both use (`mnist_cli.config.paths`); a path that
names no place, or a value a `--set` gave that is wrong, is reported under that `--set`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mnist_cli.cli.app import app
from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.load import shipped_configs
from mnist_cli.errors import ConfigError
from mnist_cli.tuning.space import FLAG_KEYS, apply_values, missing_path, read_space


def refused(sets: list[str], config: str = "mlp_relu") -> str:
    """The CLI's message for a config these --set items make invalid."""
    with pytest.raises(ConfigError) as info:
        resolve_config(config, Overrides(sets=sets))
    return info.value.cli_message


def test_set_indexes_a_layer_as_the_tune_space_does() -> None:
    """The issue's case: this turned model.layers into a mapping and blamed mlp_relu.yaml."""
    cfg = resolve_config("mlp_relu", Overrides(sets=["model.layers.1.Dense.units=30"]))
    assert [layer.class_name for layer in cfg.model.layers] == ["Flatten", "Dense", "Dense",
                                                                "Dense"]
    assert cfg.model.layers[1].kwargs == {"units": 30, "activation": "relu"}


@pytest.mark.parametrize("name", sorted(shipped_configs()))
def test_every_shipped_space_key_works_as_a_set(name: str) -> None:
    """Each searched key, set by --set to its range's low end (or first choice), gives the
    config the tune trial with that value gets."""
    base = resolve_config(name).to_dict()
    params, _ = read_space(None, name)
    for param in (p for p in params if p.key not in FLAG_KEYS):
        value = param.corners()[0]
        by_set = resolve_config(name, Overrides(sets={param.key: value})).to_dict()
        assert by_set == apply_values(base, {param.key: value}), param.key


@pytest.mark.parametrize(("sets", "message"), [
    (["model.layers.7.Dense.units=3"], "--set model.layers.7.Dense.units=3: model.layers has "
                                       "4 entries, so '7' is not an index of it (indexes count "
                                       "from 0: 0 to 3)"),
    (["model.layers.1.Conv2D.filters=3"], "--set model.layers.1.Conv2D.filters=3: "
                                          "model.layers.1 is a Dense layer, not Conv2D; write "
                                          "model.layers.1.Dense.ARGUMENT"),
    (["training.epochs.x=3"], "--set training.epochs.x=3: training.epochs is 10, a value, not "
                              "a section or list"),
    (["data.foo.bar=1"], "--set data.foo.bar=1: data.foo: unknown key"),
    (["epochs=3"], "--set epochs=3: name the section too, e.g. training.epochs"),
    (["training..epochs=3"], "--set training..epochs=3: 'training..epochs' has an empty part"),
    (["model.layers=[{Dense2: {}}]"], "--set model.layers=[{Dense2: {}}]: model.layers[0]: "
                                      "unknown layer class 'Dense2'"),
])
def test_a_set_that_names_no_place_is_refused_naming_it(sets: list[str], message: str) -> None:
    text = refused(sets)
    assert text.startswith(message), text
    assert "mlp_relu.yaml" not in text


def test_every_bad_set_path_at_once() -> None:
    text = refused(["model.layers.9.Dense.units=3", "model.layers.x.Dense.units=3"])
    assert "2 problem(s)" in text and "'9' is not an index" in text and "'x' is not" in text


def test_a_bad_layer_argument_from_a_set_names_that_set() -> None:
    """Keras refuses it (checked while resolving, since a --set changed model.layers)."""
    text = refused(["model.layers.1.Dense.units=-3"])
    assert text.startswith("--set model.layers.1.Dense.units=-3: model.layers[1] (Dense): "
                           "bad argument"), text
    assert "mlp_relu.yaml" not in text


def test_a_file_problem_is_not_blamed_on_a_set_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  layers: [Flatten, {Dense: {units: -3}}, {Dense: {units: 10}}]\n")
    text = refused(["model.layers.1.Dense.use_bias=false"], str(path))
    assert text.startswith(f"{path}: model.layers[1] (Dense): bad argument"), text
    assert "--set" not in text


def test_a_flag_on_a_section_that_is_not_a_mapping_reports_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  layers: [{Dense: {units: 10}}]\ntraining: 3\n")
    with pytest.raises(ConfigError) as info:
        resolve_config(str(path), Overrides(epochs=2))
    assert info.value.cli_message == f"{path}: training: must be a mapping, got int"


def test_space_paths_are_checked_by_the_same_function() -> None:
    base = resolve_config("mlp_relu").to_dict()
    assert missing_path(base, "model.layers.1.Dense.units") is None
    assert missing_path(base, "model.layers.1.Dense.use_bias") is None  # left to Keras
    assert missing_path(base, "training.epoch") == "the config has no key training.epoch"
    assert "model.layers has 4 entries" in (missing_path(base, "model.layers.4.Dense.units")
                                            or "")


def test_cli_train_set_path_error_exits_2_before_data(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["train", "--data", str(tmp_path / "absent.csv"), "--set",
                                   "model.layers.5.Dense.units=30", "--run-dir",
                                   str(tmp_path / "run")])
    assert res.exit_code == 2, res.output
    assert " ".join(res.stderr.split()).startswith(
        "error: --set model.layers.5.Dense.units=30: model.layers has 4 entries"), res.stderr
    assert "Traceback" not in res.output and not (tmp_path / "run").exists()

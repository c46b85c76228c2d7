"""Config loading, validation and overrides: errors name the file, key and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.load import parse_config, shipped_configs
from mnist_cli.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("name", sorted(shipped_configs()))
@pytest.mark.slow
def test_every_shipped_config_loads_and_builds(name: str) -> None:
    from mnist_cli.modeling.build import build_model, check_layers

    cfg = resolve_config(name)
    check_layers(cfg.model, source=name)
    for shape in [(8, 8, 1), (28, 28, 1)]:
        model = build_model(cfg.model, shape, 10, cfg.name)
        assert model.output_shape == (None, 10)
        assert model.input_shape == (None, *shape)


def test_shipped_configs_exist() -> None:
    assert {"mlp_relu", "mlp_softmax", "cnn"} <= set(shipped_configs())


def test_all_problems_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, """
modle: {}
model:
  layers:
    - Dense2: {units: 3}
    - Lambda: {function: x}
training: {epochs: -1, batch_size: 0, learning_rate: 0, epocs: 3}
""")
    with pytest.raises(ConfigError) as info:
        resolve_config(path)
    text = str(info.value)
    assert path in text
    assert "modle: unknown top-level key (did you mean model?)" in text
    assert "model.layers[0]: unknown layer class 'Dense2' (did you mean Dense?)" in text
    assert "model.layers[1]: Lambda is not allowed" in text
    assert "training.epochs: must be >= 1" in text
    assert "training.batch_size: must be >= 1" in text
    assert "training.learning_rate: must be a finite number > 0" in text
    assert "training.epocs: unknown key (did you mean epochs?)" in text
    assert len(info.value.problems) == 7


def test_wrong_types_named(tmp_path: Path) -> None:
    path = write(tmp_path, "model: {layers: [Flatten, {Dense: {units: 10}}], output: logit}\n"
                           "training: {epochs: three, deterministic: maybe}\n")
    with pytest.raises(ConfigError) as info:
        resolve_config(path)
    text = str(info.value)
    assert "model.output: expected 'logits' or 'probabilities', got 'logit'" in text
    assert "training.epochs: expected an integer, got 'three'" in text
    assert "training.deterministic: expected true/false" in text


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nmodel:\n  layers: [\n    - Dense\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+: YAML syntax error"):
        resolve_config(path)


def test_python_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="YAML syntax error"):
        resolve_config(path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the file is empty"):
        resolve_config(write(tmp_path, ""))


def test_bad_layer_argument_checked_by_building() -> None:
    from mnist_cli.modeling.build import check_layers

    cfg = parse_config({"model": {"layers": [{"Dense": {"units": 10, "activaton": "relu"}},
                                             {"Conv2D": {"filters": 3}}]}})
    with pytest.raises(ConfigError) as info:
        check_layers(cfg.model, source="x.yaml")
    assert "model.layers[0] (Dense): bad argument" in str(info.value)
    assert "activaton" in str(info.value)
    assert "model.layers[1] (Conv2D): bad argument" in str(info.value)


def test_flags_override_file() -> None:
    cfg = resolve_config("mlp_softmax", Overrides(
        activation="relu", epochs=3, batch_size=16, optimizer="sgd", learning_rate=0.5, seed=7,
        data="digits", sets=["training.early_stopping_patience=2", "model.output=probabilities"]))
    hidden = [layer.kwargs.get("activation") for layer in cfg.model.layers[1:-1]]
    assert hidden == ["relu", "relu"]
    assert "activation" not in cfg.model.layers[-1].kwargs
    t = cfg.training
    assert (t.epochs, t.batch_size, t.optimizer, t.learning_rate, t.seed) == (3, 16, "sgd", 0.5, 7)
    assert t.early_stopping_patience == 2
    assert cfg.model.output == "probabilities"
    assert cfg.data.spec == "digits"


def test_set_unknown_key_and_wrong_type() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_config(None, Overrides(sets=["training.epoch=3", "training.batch_size=big"]))
    text = str(info.value)
    assert "training.epoch: unknown key (did you mean epochs?)" in text
    assert "training.batch_size: expected an integer, got 'big'" in text


def test_set_needs_section() -> None:
    with pytest.raises(ConfigError, match="name the section too"):
        resolve_config(None, Overrides(sets=["epochs=3"]))


def test_unknown_config_name_suggests() -> None:
    with pytest.raises(ConfigError, match="did you mean mlp_relu"):
        resolve_config("mlp_rel")


def test_layer_allowlist_matches_installed_keras() -> None:
    import keras

    from mnist_cli.config.layer_names import ALLOWED_LAYERS

    missing = [name for name in ALLOWED_LAYERS if not hasattr(keras.layers, name)]
    assert missing == []


def test_round_trip_of_saved_config() -> None:
    cfg = resolve_config("cnn", Overrides(epochs=2, seed=3))
    again = parse_config(cfg.to_dict(), source="saved")
    assert again == cfg


def test_training_loss_is_refused_with_the_reason(tmp_path: Path) -> None:
    """The loss follows model.output; a `training.loss` key (never used) is refused, in a file
    and in --set, saying why, instead of being silently ignored."""
    path = write(tmp_path, "model:\n  layers: [{Dense: {units: 10}}]\n"
                           "training:\n  loss: mean_squared_error\n")
    for source, overrides in ((path, None), (None, Overrides(sets=["training.loss=mse"]))):
        with pytest.raises(ConfigError) as info:
            resolve_config(source, overrides)
        assert "training.loss: not a config key any more: the loss follows model.output" \
            in str(info.value)


def test_saved_config_of_an_earlier_version_still_loads() -> None:
    """Runs written before training.loss was removed saved it in config.yaml; evaluate and
    --resume read those runs, so the retired key is dropped there."""
    from mnist_cli.config.resolve import config_from_dict

    cfg = resolve_config("mlp_relu", Overrides(seed=1))
    old = cfg.to_dict()
    old["training"]["loss"] = "sparse_categorical_crossentropy"
    assert config_from_dict(old, source="old/config.yaml") == cfg
    assert old["training"]["loss"] == "sparse_categorical_crossentropy"  # caller's dict kept


def test_every_key_has_documentation_for_explain() -> None:
    """`config show --explain` prints each key's docstring from config/schema.py: every
    key of the resolved config has one, and the commented YAML reads back as the config."""
    import yaml

    from mnist_cli.config.docs import explain_json, explain_yaml, key_docs

    cfg = resolve_config("cnn")
    flat = {f"{s}.{k}" for s, v in cfg.to_dict().items() if isinstance(v, dict) for k in v}
    assert set(key_docs()) == flat | {"name"}
    assert all(doc.strip() for doc in key_docs().values())
    text = explain_yaml(cfg)
    assert yaml.safe_load(text) == cfg.to_dict()
    assert (f"  # Passes over the training data; must be >= 1.\n"
            f"  epochs: {cfg.training.epochs}\n") in text
    explained = explain_json(cfg)
    assert explained["training.epochs"] == {
        "value": cfg.training.epochs, "doc": "Passes over the training data; must be >= 1."}

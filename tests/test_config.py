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
def test_every_shipped_config_loads_and_builds(name: str) -> None:
    from mnist_cli.model import build_model, check_layers

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
    assert "training.learning_rate: must be > 0" in text
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
    from mnist_cli.model import check_layers

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

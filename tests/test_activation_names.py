"""An activation Keras does not know is refused while the config is resolved (no Keras, no
data), naming `--activation` or the file and layer, with a "did you mean"; exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnist_cli.config import Overrides, resolve_config
from mnist_cli.config.layer_names import ACTIVATIONS
from mnist_cli.errors import ConfigError
from tests.helpers import run_cli

HINT = "unknown activation 'relux' (did you mean 'relu'?); use one of keras.activations: "


def flat(text: str) -> str:
    return " ".join(text.split())


def test_train_activation_flag_names_the_flag_before_any_data(tmp_path: Path) -> None:
    """An absent CSV: had the data been read first, that would be the error."""
    res = run_cli("train", "--activation", "relux", "--data", str(tmp_path / "big.csv"),
                  "--run-dir", str(tmp_path / "run"))
    assert res.returncode == 2, res.stdout + res.stderr
    assert flat(res.stderr).startswith(f"error: --activation: {HINT}celu, elu"), res.stderr
    assert "big.csv" not in res.stderr and not (tmp_path / "run").exists()


def test_compare_activation_flag_names_the_flag(tmp_path: Path) -> None:
    res = run_cli("compare", "--activation", "relu", "--activation", "tahn", "--data",
                  str(tmp_path / "big.csv"), "--run-dir", str(tmp_path / "cmp"))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "--activation: unknown activation 'tahn' (did you mean 'tanh'?)" in flat(res.stderr)


def test_yaml_layer_activation_names_the_file_and_layer(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  layers:\n    - Flatten\n    - Dense: {units: 8, activation: relux}"
                    "\n    - Dense: {units: 10, activation: Softmax}\n")
    res = run_cli("train", "-c", str(path), "--data", str(tmp_path / "big.csv"))
    assert res.returncode == 2, res.stdout + res.stderr
    text = flat(res.stderr)
    assert f"error: {path}: 2 problem(s):" in text
    assert f"- model.layers[1] (Dense): {HINT}" in text
    assert "- model.layers[2] (Dense): unknown activation 'Softmax' (did you mean 'softmax'?)" \
        in text


def test_api_names_the_keyword_and_reports_every_problem() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_config("mlp_relu", Overrides(activation="relux", epochs=0))
    assert info.value.message == ("2 problem(s):\n"
                                  f"  - keyword activation: {HINT}{', '.join(sorted(ACTIVATIONS))}"
                                  "\n  - keyword epochs: training.epochs: must be >= 1, got 0")
    assert str(info.value).count("unknown activation") == 1  # once, not once per layer


def test_known_activations_and_non_names_pass() -> None:
    cfg = resolve_config("mlp_relu", Overrides(activation="gelu"))
    assert [layer.kwargs.get("activation") for layer in cfg.model.layers] == \
        [None, "gelu", "gelu", None]
    cfg = resolve_config({"model": {"layers": [{"Dense": {"units": 10, "activation": None}}]}})
    assert cfg.model.layers[0].kwargs == {"units": 10, "activation": None}


def test_activation_list_matches_installed_keras() -> None:
    """Every name keras.activations.get accepts, and nothing else (fails when Keras adds or
    drops one: update config/layer_names.py)."""
    import keras

    public = {name for name in dir(keras.activations) if not name.startswith("_")}
    known = {name for name in public - {"get", "serialize", "deserialize"}
             if callable(getattr(keras.activations, name))}
    assert set(ACTIVATIONS) == known
    assert all(callable(keras.activations.get(name)) for name in ACTIVATIONS)

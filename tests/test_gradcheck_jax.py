"""gradcheck on JAX (`--backend jax`): the same check as on TensorFlow, in float64 through
JAX's x64 mode for the check only.

This pytest process runs Keras on TensorFlow, so the JAX side runs once, in a fresh process
(tests/backend_scripts/jax_gradcheck.py), which saves the weights, batch and autodiff
gradients it checked; the tests here run the same check on TensorFlow on the same weights and
compare: same verdict, the same autodiff gradients to ~1e-9 (both float64), both far below
the thresholds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from mnist_cli.errors import UsageError
from mnist_cli.gradients.report import PASS_BELOW, relative_difference
from tests.helpers import ROOT, run_jax_script, scenario_result, slow_fixture

SCRIPT = ROOT / "tests" / "backend_scripts" / "jax_gradcheck.py"
PARAMS, DIRECTIONS = 12, 3
"""As in the script: the same sampled entries and directions on both backends."""


pytestmark = pytest.mark.extended  # one JAX process cross-checking TF: `make test-extended`


@pytest.fixture(scope="module")
@slow_fixture
def jax_side(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(its output folder, results.json) of the JAX gradcheck process."""
    pytest.importorskip("jax", reason="optional extra mnist-cli[jax] (in the dev install)")
    out = tmp_path_factory.mktemp("jax_gradcheck")
    return out, run_jax_script(SCRIPT, out)


def found(jax_side: tuple[Path, dict[str, Any]], name: str) -> dict[str, Any]:
    return scenario_result(jax_side[1], name)


def tensorflow_side(config: str, saved: Any) -> tuple[Any, Any]:
    """The config's model on TensorFlow holding the JAX side's weights: (model, config)."""
    from mnist_cli.config import Overrides, resolve_config
    from mnist_cli.modeling.build import build_model

    cfg = resolve_config(config, Overrides())
    model = build_model(cfg.model, (8, 8, 1), 10, name=config)
    model.set_weights([saved[f"w{i}"] for i in range(len(model.get_weights()))])
    return model, cfg


@pytest.mark.parametrize("config", ["mlp_relu", "cnn"])
def test_same_check_same_gradients_as_tensorflow(jax_side: tuple[Path, dict[str, Any]],
                                                 config: str) -> None:
    from mnist_cli.gradients import check_model
    from mnist_cli.gradients.autodiff import float64_mode, to_tensor
    from mnist_cli.gradients.clone import autodiff_gradients, float64_clone

    on_jax = found(jax_side, config)["result"]
    saved = np.load(jax_side[0] / f"{config}.npz")
    x, y = saved["x"], saved["y"]
    model, _ = tensorflow_side(config, saved)
    on_tf = check_model(model, x, y, from_logits=True, params=PARAMS, epsilon=1e-5, seed=0,
                        directions=DIRECTIONS, name=config).to_dict()
    assert on_jax["verdict"] == on_tf["verdict"] == "pass", (on_jax, on_tf)
    assert on_jax["overall_rel_diff"] < PASS_BELOW and on_tf["overall_rel_diff"] < PASS_BELOW
    assert rows(on_jax) == rows(on_tf)
    assert (on_jax["settings"]["backend"], on_tf["settings"]["backend"]) == ("jax",
                                                                             "tensorflow")
    assert on_jax["settings"]["autodiff"] == "jax.value_and_grad"
    assert on_jax["settings"]["dtype"] == "float64"
    with float64_mode():
        grads, loss = autodiff_gradients(float64_clone(model), to_tensor(x), to_tensor(y),
                                         True)
    assert abs(loss - float(saved["loss"])) <= 1e-12 * abs(loss)
    for i, g in enumerate(grads):  # float64 on both: agreement to rounding, not to 1e-7
        assert relative_difference(g, saved[f"g{i}"]) < 1e-9, (config, i)


def rows(result: dict[str, Any]) -> list[tuple[str, list[int], int]]:
    """(kernel or bias, shape, entries checked) per variable (layer names are numbered per
    process)."""
    return [(v["name"].split("/")[-1], v["shape"], v["checked"]) for v in result["variables"]]


def test_a_planted_bug_fails_on_jax(jax_side: tuple[Path, dict[str, Any]]) -> None:
    planted = found(jax_side, "planted_bug")
    flipped, scaled = planted["flipped"], planted["scaled"]
    assert flipped["verdict"] == "fail" and flipped["directional_verdict"] == "fail"
    assert flipped["directional"][1]["verdict"] == "fail"  # the first kernel's directions
    assert scaled["verdict"] == "fail"
    assert all(d["verdict"] == "fail" for d in scaled["directional"] if d["judged"])


def test_kinks_are_found_on_jax(jax_side: tuple[Path, dict[str, Any]]) -> None:
    """ReLU and max-pool kinks at epsilon 1e-2 are flagged and left out: the kink entries are
    off by ~1e-2, the rest agrees to the step's O(eps^2) error; activation kinks are derived
    the same on JAX as on TensorFlow."""
    from mnist_cli.gradients.activations import activation_kinks

    kinks = found(jax_side, "kinks")
    for name in ("relu", "pool"):
        result = kinks[name]
        assert result["kinks"] > 0, name
        kinked = [v for v in result["variables"] if v["kinks"]]
        assert max(v["kink_rel_diff"] for v in kinked) > 1e-3, name
        assert result["overall_rel_diff"] < 1e-4, name

    derived = {k: tuple(v) if isinstance(v, list) else v for k, v in kinks["derived"].items()}
    assert derived == {name: activation_kinks(name) for name in derived}
    assert derived["relu6"] == (0.0, 6.0)


def test_max_pool_kinks_same_as_tensorflow(jax_side: tuple[Path, dict[str, Any]]) -> None:
    """JAX finds a pool's winners from its windows (TensorFlow: max_pool_with_argmax): on the
    same weights, the same entries straddle a kink, padding included."""
    from mnist_cli.backend import import_keras
    from mnist_cli.gradients import check_model

    keras = import_keras()
    saved = np.load(jax_side[0] / "pool.npz")
    x, y = np.load(jax_side[0] / "mlp_relu.npz")["x"], np.load(jax_side[0] / "mlp_relu.npz")["y"]
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(3, 3),
                              keras.layers.MaxPooling2D(3, strides=2, padding="same"),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    model.set_weights([saved[f"arr_{i}"] for i in range(len(saved.files))])
    on_tf = check_model(model, x, y, from_logits=True, params=PARAMS, epsilon=1e-2, seed=0,
                        directions=DIRECTIONS).to_dict()
    on_jax = found(jax_side, "kinks")["pool"]
    assert [v["kinks"] for v in on_jax["variables"]] == [v["kinks"] for v in on_tf["variables"]]
    assert [d["dropped_samples"] for d in on_jax["directional"]] == \
        [d["dropped_samples"] for d in on_tf["directional"]]
    assert on_tf["kinks"] > 0


def test_logistic_on_jax(jax_side: tuple[Path, dict[str, Any]]) -> None:
    logistic = found(jax_side, "logistic")
    result = logistic["result"]
    assert result["verdict"] == "pass"
    assert {v["reference"] for v in result["variables"]} == {"finite-difference",
                                                            "gradient-tape"}
    assert result["settings"]["autodiff"] == "jax.value_and_grad"
    assert "float64, jax" in logistic["rendered"]
    assert "tape = jax.value_and_grad" in logistic["rendered"]


def test_softmax_as_logits_note_on_jax(jax_side: tuple[Path, dict[str, Any]]) -> None:
    (note,) = found(jax_side, "softmax_as_logits_note")["notes"]
    assert "Keras training on JAX does the same" in note


def test_without_x64_float64_is_refused(jax_side: tuple[Path, dict[str, Any]]) -> None:
    """JAX without x64 computes float64 requests in float32: both the weights' values and
    the loss and gradients computed are checked, and the check refuses (RunFailed)."""
    first, second = found(jax_side, "x64_off_refused")["messages"]
    assert first.startswith("gradcheck needs float64 everywhere but")
    assert "value is float32" in first and "x64 mode" in first
    assert "the loss is float32" in second and "x64 mode" in second


def test_cli_checks_the_configs_backend(jax_side: tuple[Path, dict[str, Any]]) -> None:
    cli = found(jax_side, "cli")
    assert cli["code"] == 0, cli["stderr"]
    assert cli["report"]["verdict"] == "pass"
    assert cli["report"]["settings"]["backend"] == "jax"
    assert cli["saved"] == cli["report"]
    assert not any("TensorFlow" in note for note in cli["report"]["notes"])
    code, table, _ = cli["table"]
    assert code == 0 and "(float64, jax)" in table
    code, _, err = cli["refused"]
    assert code == 2 and "Keras already runs on jax" in err


def test_jax_is_back_to_float32_afterwards(jax_side: tuple[Path, dict[str, Any]]) -> None:
    after = found(jax_side, "afterwards")
    assert after["x64"] is False and after["default_float"] == "float32"
    assert after["keras_float64_promotes_to"] == "float32"
    assert after["weights_dtypes"] == ["float32"]
    assert after["same_training"]  # bit-identical to the same training before the checks


def test_no_tensorflow_imported_on_jax(jax_side: tuple[Path, dict[str, Any]]) -> None:
    assert jax_side[1]["tensorflow_imported_at_end"] is False


def test_jax_asked_for_where_keras_runs_on_tensorflow() -> None:
    """One backend per process: --backend jax here is exit 2, the API's UsageError."""
    from mnist_cli import gradcheck
    from mnist_cli.backend import current_backend, import_keras
    from mnist_cli.cli.app import app

    import_keras()
    with pytest.raises(UsageError, match="Keras already runs on tensorflow"):
        gradcheck(data="digits", backend="jax")
    result = CliRunner().invoke(app, ["gradcheck", "--data", "digits", "--backend", "jax"])
    assert result.exit_code == 2 and "restart the kernel" in result.output
    assert current_backend() == "tensorflow"

"""The engine's guarantees on every multi-device path, proven on CPU (issue 27).

Each path runs tests/strategy_scripts/guarantees.py once, in a fresh process (devices are
configured before TensorFlow or XLA starts): TF `mirrored` over 2 logical CPU devices, JAX
`data-parallel` over 2 forced host devices. Multi-worker (2 localhost workers) is in
tests/test_strategy.py. Guarantees:
  a. one seed -> bit-identical weights; b. SIGINT mid-epoch and kill -9 after a backup, each
  resumed, -> bit-identical to the uninterrupted run; c. a non-finite gradient on one replica
  stops every replica at that step, nothing applied; d. 2 replicas vs 1 device at the same
  global batch: first-epoch losses within 1e-5; e. evaluate equals the recorded accuracy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.helpers import ROOT, scenario_result

SCRIPT = ROOT / "tests" / "strategy_scripts" / "guarantees.py"
PATHS = {"tensorflow": {}, "jax": {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}}


@pytest.fixture(scope="module", params=sorted(PATHS))
def results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Any]:
    backend = request.param
    out = tmp_path_factory.mktemp(f"guarantees-{backend}")
    env = {**os.environ, **PATHS[backend], "JAX_COMPILATION_CACHE_DIR": str(out / "xla"),
           "KERAS_HOME": str(out / "kh"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("KERAS_BACKEND", None)
    done = subprocess.run([sys.executable, str(SCRIPT), str(out), backend], env=env, cwd=out,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def same_run(found: dict[str, Any]) -> None:
    assert found["weights"], "weights differ"
    assert found["test_loss"][0] == found["test_loss"][1]
    assert found["history"], "history.csv differs"


@pytest.mark.slow
def test_a_one_seed_gives_bit_identical_weights(results: dict[str, Any]) -> None:
    found = scenario_result(results, "a_same_seed_same_weights")
    same_run(found)
    strategy = found["strategy"]  # metrics.json says how it ran
    assert (strategy["replicas"], strategy["global_batch_size"]) == (2, 32)
    assert len(set(strategy["devices"])) == 2  # where the replicas ran
    assert strategy["name"] in ("mirrored", "data-parallel")
    assert strategy["why"] == "chosen by --strategy"


@pytest.mark.slow
def test_b_sigint_and_kill_then_resume_are_bit_identical(results: dict[str, Any]) -> None:
    found = scenario_result(results, "b_resume_after_sigint_and_kill")
    assert 1 <= found["sigint_saved_epochs"] < 4 and 1 <= found["killed_saved_epochs"] < 4
    same_run(found["sigint"])
    same_run(found["killed"])  # resumed without --strategy: the run's own is used
    assert "over 2 replica(s), but strategy default has 1 here" in found["one_device_refusal"]


@pytest.mark.slow
def test_c_one_bad_replica_stops_every_replica_with_nothing_applied(
        results: dict[str, Any]) -> None:
    found = scenario_result(results, "c_one_bad_replica_stops_all")
    assert f"at epoch 1, step {found['step']}" in found["message"]
    assert found["iterations"] == found["step"] - 1  # the bad step was applied nowhere
    assert found["finite"] and found["replica_copies_equal"]


@pytest.mark.slow
def test_d_two_replicas_match_one_device_at_the_same_global_batch(
        results: dict[str, Any]) -> None:
    found = scenario_result(results, "d_two_replicas_vs_one_device")
    assert found["replicas"] == [2, 1]
    two, one = found["loss"]
    assert two == pytest.approx(one, abs=1e-5)
    assert found["val_loss"][0] == pytest.approx(found["val_loss"][1], abs=1e-5)


@pytest.mark.slow
def test_e_evaluate_equals_the_recorded_test_accuracy(results: dict[str, Any]) -> None:
    found = scenario_result(results, "e_evaluate_equals_recorded")
    accuracy, loss = found["recorded"]
    for how in ("default", "multi"):
        assert found[how][0] == accuracy, how
        assert found[how][1] == pytest.approx(loss, rel=1e-6), how

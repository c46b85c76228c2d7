"""`mnist-cli env` in-process, with the device probe faked (no TensorFlow import): each pinned
library against its tested range."""

from __future__ import annotations

import json

import pytest

import mnist_cli.dependencies as deps
import mnist_cli.distribute.report as report
from tests.helpers import run_cli

CPU_ONLY = {"CPU": ["/device:CPU:0"], "GPU": [], "TPU": []}


@pytest.fixture
def no_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "devices", lambda: CPU_ONLY)


def test_env_shows_each_pin_against_its_tested_range(
        no_tensorflow: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deps, "pins", lambda: [
        deps.Pin("tensorflow", "2.22.0", ">=2.21.0,<2.22", False),
        deps.Pin("optuna", "5.1.0", ">=5.1.0,<5.2", True)])
    table = run_cli("env", env={"COLUMNS": "200"})
    assert table.returncode == 0, table.output
    lines = table.stdout.splitlines()
    assert any("tensorflow" in line and "2.22.0 (tested >=2.21.0,<2.22: OUTSIDE: untested"
               in line for line in lines)
    assert any("optuna" in line and "5.1.0 (tested >=5.1.0,<5.2: inside)" in line
               for line in lines)
    data = json.loads(run_cli("env", "--json").stdout)
    assert data["pins"][0] == {"name": "tensorflow", "installed": "2.22.0",
                               "tested": ">=2.21.0,<2.22", "inside": False,
                               "summary": deps.Pin("tensorflow", "2.22.0", ">=2.21.0,<2.22",
                                                   False).summary}

"""`mnist-cli env` in-process, with the device probe faked (no TensorFlow import): each pinned
library against its tested range, and what it says about a GPU it finds unused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import mnist_cli.dependencies as deps
import mnist_cli.distribute.report as report
from mnist_cli.distribute import gpu
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


NO_GPU = gpu.GpuProbe()
BARE = gpu.GpuProbe(nvidia=["0000:01:00.0"], jax_installed=True)
"""A GPU machine after a plain `pip install`: no CUDA wheels, no JAX plugin."""
READY = gpu.GpuProbe(nvidia=["0000:01:00.0", "0000:02:00.0"], cuda_wheels=True,
                     jax_installed=True, jax_cuda_plugin=True)


@pytest.mark.parametrize(("found", "tf_gpus", "expected"), [
    (NO_GPU, [], ["none: no NVIDIA driver found"]),
    (BARE, [], ["1 NVIDIA GPU(s) present but TensorFlow sees none: its CUDA libraries",
                "JAX has no CUDA plugin, so --backend jax runs on the CPU: pip install "
                "'mnist-cli[gpu]'"]),
    (gpu.GpuProbe(nvidia=["0"], cuda_wheels=True), [], ["CUDA libraries installed, but "
                                                        "TensorFlow sees none: a driver"]),
    (READY, ["/device:GPU:0", "/device:GPU:1"],
     ["2 NVIDIA GPU(s) present; TensorFlow uses: /device:GPU:0, /device:GPU:1"]),
    (gpu.GpuProbe(nvidia=["0"], cuda_wheels=True, visible_devices="-1"), [],
     ["but CUDA_VISIBLE_DEVICES='-1' hides them"]),
])
def test_gpu_advice(found: gpu.GpuProbe, tf_gpus: list[str], expected: list[str]) -> None:
    lines = gpu.advice(found, tf_gpus)
    assert len(lines) == len(expected)
    for line, part in zip(lines, expected, strict=True):
        assert part in line


def test_env_says_when_a_gpu_is_present_but_unused(
        no_tensorflow: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu, "probe", lambda: BARE)
    result = run_cli("env", env={"COLUMNS": "300"})
    assert result.returncode == 0, result.output
    assert "1 NVIDIA GPU(s) present but TensorFlow sees none" in result.stdout
    assert "pip install 'mnist-cli[gpu]'" in result.stdout
    data = json.loads(run_cli("env", "--json").stdout)["gpu"]
    assert data["nvidia"] == ["0000:01:00.0"] and data["cuda_wheels"] is False
    assert len(data["advice"]) == 2


def test_nvidia_gpus_read_from_the_driver_or_nvidia_smi(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    driver = tmp_path / "gpus"
    (driver / "0000:65:00.0").mkdir(parents=True)
    monkeypatch.setattr(gpu, "DRIVER_DIR", driver)
    assert gpu.nvidia_gpus() == ["0000:65:00.0"]
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)'\n")
    smi.chmod(0o755)
    monkeypatch.setattr(gpu, "DRIVER_DIR", tmp_path / "absent")
    monkeypatch.setenv("PATH", str(smi.parent), prepend=os.pathsep)
    assert gpu.nvidia_gpus() == ["GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)"]

"""scripts/device_check.sh, the GPU check (docs/gpu.md), cannot run here (no GPU; its dry
mode, DEVICE_CHECK_DRY=1, takes ~2 min): it parses, and every flag it passes to
`mnist-cli train` exists."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import typer

from mnist_cli.cli.app import app
from tests.helpers import ROOT

SCRIPT = ROOT / "scripts" / "device_check.sh"
NOT_TRAIN = {"--kill-after"}  # timeout's


def test_device_check_parses() -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    result = subprocess.run([bash, "-n", str(SCRIPT)], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 0, result.stderr


def test_device_check_uses_only_flags_train_has() -> None:
    train = typer.main.get_command(app).commands["train"]  # type: ignore[attr-defined]
    flags = {opt for param in train.params for opt in param.opts}
    used = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", SCRIPT.read_text())) - NOT_TRAIN
    assert used and used <= flags, sorted(used - flags)

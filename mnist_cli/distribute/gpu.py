"""`mnist-cli env`'s GPU lines: is there an NVIDIA GPU, do TensorFlow and JAX see it, and if
not, what to install (docs/gpu.md).

The commonest GPU failure is silent: a plain `pip install` gives TensorFlow without its CUDA
libraries and JAX without its CUDA plugin, both then train on the CPU without an error. The
probe looks at the machine without TensorFlow or JAX (the driver's /proc entries, else
`nvidia-smi -L`), so the advice is pure logic over what it found, testable with a fake probe.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

GPU_EXTRA = "pip install 'mnist-cli[gpu]'"
DRIVER_DIR = Path("/proc/driver/nvidia/gpus")
CUDA_WHEELS = ("nvidia.cudnn", "nvidia.cublas")
"""Modules of the CUDA library wheels that `tensorflow[and-cuda]` installs."""
JAX_PLUGINS = ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_plugins.xla_cuda12",
               "jax_plugins.xla_cuda13")


@dataclass
class GpuProbe:
    """What the machine offers, found without importing TensorFlow or JAX."""

    nvidia: list[str] = field(default_factory=list)
    """The NVIDIA GPUs the driver lists (empty: none, or no driver)."""
    cuda_wheels: bool = False
    """The nvidia-* CUDA library wheels TensorFlow loads are installed."""
    jax_installed: bool = False
    jax_cuda_plugin: bool = False
    visible_devices: str | None = None
    """CUDA_VISIBLE_DEVICES, if set."""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def probe() -> GpuProbe:
    return GpuProbe(nvidia=nvidia_gpus(), cuda_wheels=all(map(_has, CUDA_WHEELS)),
                    jax_installed=_has("jax"), jax_cuda_plugin=any(map(_has, JAX_PLUGINS)),
                    visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"))


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package
        return False


def nvidia_gpus() -> list[str]:
    """The driver's GPUs: /proc/driver/nvidia/gpus/* (Linux), else `nvidia-smi -L` lines."""
    if DRIVER_DIR.is_dir():
        found = sorted(p.name for p in DRIVER_DIR.iterdir())
        if found:
            return found
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10,
                             check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.splitlines() if line.startswith("GPU ")]


def advice(found: GpuProbe, tf_gpus: list[str]) -> list[str]:
    """One line per finding: the GPUs TensorFlow uses, or why it uses none although the
    machine has some, and the same for JAX's CUDA plugin."""
    if not found.nvidia:
        if tf_gpus:
            return ["TensorFlow uses: " + ", ".join(tf_gpus)]
        return ["none: no NVIDIA driver found (/proc/driver/nvidia, nvidia-smi)"]
    count = f"{len(found.nvidia)} NVIDIA GPU(s) present"
    lines = []
    if found.visible_devices is not None and found.visible_devices.strip() in ("", "-1"):
        lines.append(f"{count} but CUDA_VISIBLE_DEVICES={found.visible_devices!r} hides "
                     "them: unset it to train on them")
    elif tf_gpus:
        lines.append(f"{count}; TensorFlow uses: {', '.join(tf_gpus)}")
    elif not found.cuda_wheels:
        lines.append(f"{count} but TensorFlow sees none: its CUDA libraries (nvidia-* "
                     f"wheels) are not installed: {GPU_EXTRA}")
    else:
        lines.append(f"{count} and CUDA libraries installed, but TensorFlow sees none: a "
                     "driver too old for CUDA 12, or a library that failed to load "
                     "(`mnist-cli env --verbose` shows TensorFlow's log); see docs/gpu.md")
    if found.jax_installed and not found.jax_cuda_plugin:
        lines.append(f"JAX has no CUDA plugin, so --backend jax runs on the CPU: {GPU_EXTRA}")
    return lines

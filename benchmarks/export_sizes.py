"""Export sizes of the shipped configs, as docs/export.md tabulates them.

8x8: trained 5 epochs on the bundled digits. 28x28: trained 1 epoch on random 28x28 uint8
images (an npz made here), since a file's size depends on the architecture and input shape,
not on the data. Every export goes through `mnist-cli export`; ONNX rows need the `onnx` extra
and are skipped without it.

    .venv/bin/python benchmarks/export_sizes.py [--out DIR]    # ~2-4 min on 2 cores
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

FORMATS = [("saved-model", None), ("tflite", None), ("tflite", "dynamic"),
           ("tflite", "float16"), ("onnx", None)]


def cli(*args: str) -> str:
    res = subprocess.run([sys.executable, "-m", "mnist_cli", *args], capture_output=True,
                         text=True)
    if res.returncode:
        raise SystemExit(f"mnist-cli {' '.join(args)}: {res.stderr[-2000:]}")
    return res.stdout


def size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def random_28x28(out: Path) -> Path:
    rng = np.random.default_rng(0)
    path = out / "random28.npz"
    np.savez(path, x_train=rng.integers(0, 256, (600, 28, 28), dtype=np.uint8),
             y_train=np.arange(600) % 10,
             x_test=rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
             y_test=np.arange(100) % 10)
    return path


def sizes_of(run: Path) -> dict[str, int]:
    """model.keras and every export format of one run, in bytes."""
    found = {"model.keras": size(run / "model.keras")}
    for fmt, quantize in FORMATS:
        if fmt == "onnx" and importlib.util.find_spec("tf2onnx") is None:
            continue
        args = ["export", str(run), "--format", fmt, "--json", "--force"]
        args += ["--quantize", quantize] if quantize else []
        result = json.loads(cli(*args))
        found[" ".join(filter(None, (fmt, quantize)))] = size(Path(result["path"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="work directory (default: temp)")
    out = parser.parse_args().out or Path(tempfile.mkdtemp(prefix="export-sizes-"))
    out.mkdir(parents=True, exist_ok=True)
    table = {}
    for shape, data, epochs in (("8x8", "digits", 5), ("28x28", str(random_28x28(out)), 1)):
        for config in ("mlp_relu", "cnn"):
            run = out / f"{config}-{shape}"
            cli("train", "-c", config, "--data", data, "--epochs", str(epochs), "--seed", "1",
                "--run-dir", str(run), "--no-plots", "--no-tensorboard", "--json")
            table[f"{config} {shape}"] = sizes_of(run)
    for name, row in table.items():
        print(name, "  ".join(f"{k} {v / 1024:,.1f} KiB" for k, v in row.items()))
    print(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()

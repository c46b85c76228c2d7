"""Contender: mnist-cli itself, `mnist-cli train` as a user runs it, on the shared .npz.

The bench driver runs the command directly (so its process wall is mnist-cli's own) and
reads the result from what the run leaves: `--progress plain` prints one line per epoch on
stderr (`epoch 3/10 ... 0.1 s 95,000 samples/s`, timed by the CLI from Keras's
on_epoch_begin to on_epoch_end, as the peers time theirs) and RUN_DIR/metrics.json holds the
test accuracy. Everything else is the default: the shipped config (mlp_relu / cnn), op
determinism, plots, TensorBoard events, model.keras; only `--validation-split 0`, so it
trains on the same images as the peers. Run alone it prints the same JSON line as a peer.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EPOCH_LINE = re.compile(r"^(?:\S+: )?epoch (\d+)/(\d+)\s.*?([\d.]+) s(?:\s+([\d,]+) samples/s)?")
CONFIGS = {"mlp": "mlp_relu", "cnn": "cnn"}


def executable() -> list[str]:
    """The console script next to this interpreter, else `python -m mnist_cli`."""
    script = Path(sys.executable).with_name("mnist-cli")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mnist_cli"]


def backend_args(backend: str, how: str | None) -> list[str]:
    """`--backend jax` once the flag exists, `--set training.backend=jax` before that."""
    if backend == "tensorflow" or how is None:
        return []
    return ["--backend", backend] if how == "flag" else ["--set", f"training.backend={backend}"]


def command(model: str, data: str, epochs: int, seed: int, run_dir: Path,
            backend: str = "tensorflow", how: str | None = None) -> list[str]:
    return [*executable(), "train", "-c", CONFIGS[model], "--data", data, "--epochs",
            str(epochs), "--seed", str(seed), "--validation-split", "0", "--run-dir",
            str(run_dir), "--progress", "plain", *backend_args(backend, how)]


def epoch_seconds(stderr: str, n_train: int) -> list[float]:
    """Per-epoch seconds from the plain progress lines: n / (samples/s) where printed (six
    significant digits), else the printed 0.1 s value."""
    out = []
    for line in stderr.splitlines():
        m = EPOCH_LINE.match(line.strip())
        if m:
            sps = m.group(4)
            out.append(n_train / float(sps.replace(",", "")) if sps else float(m.group(3)))
    return out


def parse(stderr: str, run_dir: Path, name: str, model: str) -> dict[str, Any]:
    """The peer-style record from the run's stderr and metrics.json."""
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    n = int(metrics["dataset"]["sizes"]["train"])
    seconds = epoch_seconds(stderr, n)
    if not seconds:  # no progress lines: the whole fit's rate, first epoch unknown
        steady, first = float(metrics["samples_per_second"]), None
    else:
        steady, first = n / statistics.median(seconds[1:] or seconds), seconds[0]
    return {"contender": name, "model": model, "epochs": int(metrics["epochs_run"]),
            "train_images": n, "steady_samples_per_second": steady,
            "first_epoch_seconds": first, "wall_seconds": None,
            "test_accuracy": float(metrics["test_accuracy"]), "epoch_seconds": seconds,
            "train_seconds": metrics.get("train_seconds"),
            "engine": (metrics.get("engine") or {}).get("name"),
            "backend": metrics.get("backend")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--model", choices=tuple(CONFIGS), default="mlp")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default="tensorflow")
    p.add_argument("--how", choices=("flag", "set"), default="set")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mnist-cli-bench-"))
    try:
        cmd = command(args.model, args.data, args.epochs, args.seed, tmp / "run",
                      args.backend, args.how)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        record = parse(done.stderr, tmp / "run", f"mnist_cli_{args.backend}", args.model)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    record["wall_seconds"] = wall
    print(json.dumps(record))


if __name__ == "__main__":
    main()

"""The side measurements of `make bench`: start-up, config errors, CSV load, peak memory, compare.

Start-up and config-error times run the real entry point in a fresh interpreter per repeat (what a
user waits for), and the child reports whether TensorFlow got imported.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from contenders import IMAGES, LABELS, ROOT, read_idx

PY = sys.executable
# Runs `mnist-cli ARGS` exactly as the console script does, then says if TF was imported.
CLI = ("import atexit, sys; atexit.register(lambda: sys.stderr.write("
       "'\\nTF_IMPORTED=%d\\n' % ('tensorflow' in sys.modules))); "
       "sys.argv = ['mnist-cli'] + sys.argv[1:]; from mnist_cli.cli.app import main; main()")


def time_cli(args: list[str], repeats: int) -> dict[str, Any]:
    """Median wall seconds of `mnist-cli ARGS` in a new interpreter, its exit code, TF use."""
    times, rc, tf_imported = [], 0, False
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run([PY, "-c", CLI, *args], cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        rc, tf_imported = proc.returncode, "TF_IMPORTED=1" in proc.stderr
    return {"seconds": statistics.median(times), "exit_code": rc, "tf_imported": tf_imported}


def startup(repeats: int) -> dict[str, Any]:
    """`--help` and a config validation error (epochs 0, negative learning rate)."""
    return {
        "help": time_cli(["--help"], repeats),
        "config_error": time_cli(["train", "--epochs", "0", "--learning-rate", "-1"], repeats),
    }


def tiled(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 uint8 images: the 10,000 real test digits repeated (random ones if absent)."""
    if IMAGES.exists() and LABELS.exists():
        x, y = read_idx(IMAGES), read_idx(LABELS)
    else:
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, 10000).astype(np.uint8)
    reps = -(-n // len(x))
    return np.tile(x, (reps, 1, 1))[:n], np.tile(y, reps)[:n]


def write_csv(path: Path, n: int) -> None:
    """A Kaggle-style train.csv (header `label,pixel0..pixel783`), n rows, 785 columns."""
    x, y = tiled(10000)
    rows = np.column_stack([y, x.reshape(len(x), -1)])
    import io

    buf = io.StringIO()
    np.savetxt(buf, rows, fmt="%d", delimiter=",")
    block = buf.getvalue()
    with open(path, "w", encoding="ascii") as f:
        f.write("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n")
        for _ in range(n // len(rows)):
            f.write(block)


def best_of(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def csv_load(repeats: int, n: int = 60000) -> dict[str, Any]:
    """Seconds to load an n-row CSV: the project's loader, and pandas references."""
    import pandas as pd

    tmp = Path(tempfile.mkdtemp(prefix="bench_csv_"))
    try:
        path = tmp / "train.csv"
        write_csv(path, n)
        out: dict[str, Any] = {"rows": n, "megabytes": round(path.stat().st_size / 1e6, 1)}
        try:
            from mnist_cli.config.schema import DataConfig
            from mnist_cli.data import load_dataset
        except ImportError as exc:
            out["mnist_cli"] = f"loader not available ({exc})"
        else:
            cfg = DataConfig(spec=str(path))
            out["mnist_cli"] = best_of(lambda: load_dataset(cfg, 0), repeats)
        dtypes = {c: np.uint8 for c in pd.read_csv(path, nrows=0).columns}
        out["pandas_pyarrow"] = best_of(
            lambda: pd.read_csv(path, engine="pyarrow", dtype=dtypes), repeats)
        out["pandas_c_uint8"] = best_of(
            lambda: pd.read_csv(path, engine="c", dtype=dtypes), repeats)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def peak_memory(n: int, epochs: int = 1) -> dict[str, Any]:
    """Peak RSS (child VmHWM; also os.wait4 ru_maxrss) training the cnn config on n images."""
    proc = subprocess.Popen([PY, str(ROOT / "benchmarks" / "memrun.py"), str(n), str(epochs)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    start = time.perf_counter()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    lines = (proc.stdout.read().decode() if proc.stdout else "").split("\n")
    hwm = [int(ln.split()[1]) for ln in lines if ln.startswith("VmHWM_KB")]
    return {"images": n, "epochs": epochs,
            "peak_rss_mb": round(hwm[0] / 1024, 1) if hwm else None,
            # Upper bound: Linux seeds it with this (TF-holding) parent's RSS at exec.
            "ru_maxrss_mb_upper_bound": round(usage.ru_maxrss / 1024, 1),
            "seconds": round(seconds, 1), "exit_code": os.waitstatus_to_exitcode(status),
            "child": lines[0].strip()}


def compare_available() -> bool:
    proc = subprocess.run([PY, "-c", CLI, "compare", "--help"], cwd=ROOT, capture_output=True)
    return proc.returncode == 0


def compare_cost(repeats: int, epochs: int) -> dict[str, Any]:
    """Wall seconds of `compare` (softmax vs relu, 2 variants) over one `train`, both fresh
    processes on the bundled digits, run directories in a temp dir."""
    common = ["--data", "digits", "--seed", "0", "--epochs", str(epochs), "--json"]
    tmp = Path(tempfile.mkdtemp(prefix="bench_compare_"))
    try:
        train, compare = [], []
        for r in range(repeats):
            train.append(time_cli(["train", *common, "--run-dir", str(tmp / f"t{r}")], 1))
            compare.append(time_cli(["compare", "--activation", "softmax", "--activation",
                                     "relu", *common, "--run-dir", str(tmp / f"c{r}")], 1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t = statistics.median(x["seconds"] for x in train)
    c = statistics.median(x["seconds"] for x in compare)
    return {"train_seconds": t, "compare_seconds": c, "ratio": c / t, "epochs": epochs,
            "exit_codes": [train[-1]["exit_code"], compare[-1]["exit_code"]]}


def compare_workers(repeats: int, epochs: int) -> dict[str, Any]:
    """Wall seconds of `mnist-cli compare --repeats N` (softmax vs relu, bundled digits) with
    `--workers 1` and `--workers 2`, fresh processes, alternating, best of two each; `ratio`
    is workers 1 over workers 2 (above 1: the workers pay off)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench_compare_workers_"))
    out: dict[str, Any] = {"repeats": repeats, "epochs": epochs, "cpus": os.cpu_count(),
                           "load_average": os.getloadavg()}
    try:
        for workers in ("1", "2", "1", "2"):
            run = tmp / f"w{workers}-{len(list(tmp.iterdir()))}"
            timed = time_cli(["compare", "--data", "digits", "--seed", "0", "--epochs",
                              str(epochs), "--repeats", str(repeats), "--workers", workers,
                              "--json", "--run-dir", str(run)], 1)
            best = out.get(f"workers_{workers}")
            if best is None or timed["seconds"] < best["seconds"]:
                out[f"workers_{workers}"] = timed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["ratio"] = out["workers_1"]["seconds"] / out["workers_2"]["seconds"]
    return out

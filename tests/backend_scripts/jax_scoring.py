"""`evaluate` and `predict` on the JAX backend, in one fresh process; what happened goes to
OUT/results.json (probabilities to OUT/*.npy) for tests/test_scoring_backends.py to compare
with the TensorFlow side, which runs in the pytest process.

Keras picks its backend at its first import, so this script is the JAX side: a run trained on
TensorFlow scored with `--backend jax` (one device and data parallel over two host devices,
XLA_FLAGS=--xla_force_host_platform_device_count=2), a run trained here on JAX scored by
default (on JAX), the refusals (exit 2), and whether TensorFlow was ever imported. A
scenario that raises is recorded with its error, so one failure does not hide the others.

Usage: python tests/backend_scripts/jax_scoring.py OUT TF_RUN IMAGES_CSV
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from recorder import RESULTS, save, scenario

OUT, TF_RUN, IMAGES = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
JAX_RUN = OUT / "jax_run"




def cli(*args: str) -> dict[str, Any]:
    """`mnist-cli ARGS` in this process: exit code, stdout (parsed when JSON), stderr."""
    from mnist_cli.cli.app import app

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            app(list(args), prog_name="mnist-cli")
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    text = out.getvalue()
    return {"code": code, "json": json.loads(text) if text.startswith("{") else None,
            "stderr": err.getvalue()}


def evaluated(run: Path, name: str, backend: str | None) -> dict[str, Any]:
    """The API's evaluation of `run` on `backend`: metrics; probabilities to OUT/NAME.npy."""
    from mnist_cli import api

    ev = api.evaluate(run, backend=backend, no_plots=True)
    np.save(OUT / f"{name}.npy", ev.probabilities)
    return ev.metrics


def predicted(run: Path, name: str, *flags: str) -> dict[str, Any]:
    """`predict RUN --data IMAGES --format json --json FLAGS`: its stdout and the file."""
    out = OUT / f"{name}.json"
    done = cli("predict", str(run), "--data", str(IMAGES), "--format", "json", "--out",
               str(out), "--json", *flags)
    done["file"] = json.loads(out.read_text()) if out.is_file() else None
    return done


@scenario
def tf_run_on_jax() -> dict[str, Any]:
    """The TensorFlow-trained run, asked for JAX: evaluate (API), predict and evaluate with
    data parallelism (CLI)."""
    return {"metrics": evaluated(TF_RUN, "tf_run_on_jax", "jax"),
            "predict": predicted(TF_RUN, "tf_run_on_jax_predict", "--backend", "jax"),
            "data_parallel": cli("evaluate", str(TF_RUN), "--backend", "jax", "--strategy",
                                 "data-parallel", "--json", "--no-plots"),
            "evaluation_json": json.loads((TF_RUN / "evaluation.json").read_text())}


@scenario
def jax_run_by_default() -> dict[str, Any]:
    """A run trained here on JAX, then evaluated and predicted with no --backend."""
    from mnist_cli import api

    api.train("mlp_relu", data="digits", epochs=3, seed=0, backend="jax", run_dir=JAX_RUN,
              no_plots=True, no_tensorboard=True)
    return {"metrics": evaluated(JAX_RUN, "jax_run_on_jax", None),
            "cli": cli("evaluate", str(JAX_RUN), "--json", "--no-plots"),
            "predict": predicted(JAX_RUN, "jax_run_on_jax_predict")}


@scenario
def refused() -> dict[str, Any]:
    """Exit 2, before any work: TensorFlow asked for while Keras runs JAX, a TF-only
    strategy (or --worker) on JAX, a backend that does not exist."""
    run = str(JAX_RUN)
    return {"tensorflow": cli("evaluate", run, "--backend", "tensorflow"),
            "predict_tensorflow": cli("predict", run, "--data", str(IMAGES), "--backend",
                                      "tensorflow", "--out", str(OUT / "never.csv")),
            "mirrored": cli("evaluate", run, "--strategy", "mirrored"),
            "tpu": cli("evaluate", run, "--strategy", "tpu"),
            "worker": cli("evaluate", run, "--worker", "localhost:1", "--task-index", "0"),
            "torch": cli("predict", run, "--data", str(IMAGES), "--backend", "torch")}


RESULTS["keras_backend"] = sys.modules["keras"].backend.backend()
RESULTS["tensorflow_imported"] = "tensorflow" in sys.modules
save(OUT)

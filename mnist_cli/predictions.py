"""Predictions for labelled or unlabelled images, written as csv, Kaggle csv or JSON.

Files are written atomically and never replace an existing file unless asked to.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from mnist_cli.backend import current_backend
from mnist_cli.data.class_names import label_text
from mnist_cli.data.types import Split
from mnist_cli.errors import UsageError
from mnist_cli.modeling.io import LoadedModel
from mnist_cli.results import Prediction
from mnist_cli.runs.artifacts import write_text
from mnist_cli.scoring.evaluation import probabilities

FORMATS = ("csv", "kaggle", "json")
SUFFIX = {"csv": "-predictions.csv", "kaggle": "-submission.csv", "json": "-predictions.json"}


def check_format(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


def default_out(loaded: LoadedModel, spec: str, fmt: str) -> Path:
    """`<run dir>/<input name>-predictions.csv` (or -submission.csv / .json)."""
    stem = Path(spec).stem if ("/" in spec or "." in spec) else spec
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "data"
    return loaded.out_dir / f"{stem}{SUFFIX[fmt]}"


def render_csv(probs: np.ndarray, names: list[str] | None = None) -> str:
    """id, predicted label (and its `name` when the run has class names), its probability,
    then one probability column per class (p0, p1, ...: numbered, like `label`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    named = ["name"] if names else []
    writer.writerow(["id", "label", *named, "probability",
                     *(f"p{c}" for c in range(probs.shape[1]))])
    for i, row in enumerate(probs):
        label = int(row.argmax())
        name = [label_text(label, names)] if names else []
        writer.writerow([i + 1, label, *name, f"{row[label]:.6f}", *(f"{p:.6f}" for p in row)])
    return buf.getvalue()


def render_kaggle(probs: np.ndarray) -> str:
    """Kaggle digit-recognizer submission: ImageId (1-based), Label."""
    labels = probs.argmax(axis=1)
    lines = ["ImageId,Label", *(f"{i + 1},{int(lab)}" for i, lab in enumerate(labels))]
    return "\n".join(lines) + "\n"


def render_json(probs: np.ndarray, source: str, names: list[str] | None = None) -> str:
    """Every prediction; with class names each has a `name` and the file a `class_names`
    list (index = label, the order of `probabilities`); `backend`: the Keras backend that
    ran the model."""
    rows = []
    for i, r in enumerate(probs):
        label = int(r.argmax())
        rows.append({"id": i + 1, "label": label,
                     **({"name": label_text(label, names)} if names else {}),
                     "probability": round(float(r.max()), 6),
                     "probabilities": [round(float(p), 6) for p in r]})
    head: dict[str, Any] = {"source": source, "backend": current_backend(),
                            **({"class_names": names} if names else {})}
    return json.dumps({**head, "predictions": rows}, indent=1) + "\n"


def render(probs: np.ndarray, fmt: str, source: str, names: list[str] | None = None) -> str:
    """The file's text; Kaggle's format stays numeric (the competition scores numbers)."""
    if fmt == "kaggle":
        return render_kaggle(probs)
    if fmt == "json":
        return render_json(probs, source, names)
    return render_csv(probs, names)


def check_target(path: Path, force: bool) -> None:
    """Refuse to overwrite, before spending time predicting."""
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; pass --force to overwrite it "
                         "or --out to choose another file")
    if path.exists() and path.is_dir():
        raise UsageError(f"{path} is a directory; pass --out with a file name")


def predict_to_file(loaded: LoadedModel, split: Split, path: Path, fmt: str, *,
                    source: str = "data", callbacks: list[Any] | None = None,
                    names: list[str] | None = None) -> Prediction:
    """Predict every image and write the file: `api.predict` has checked the format, the
    target, the data against the model and the label `names` (`model_class_names`)."""
    probs = probabilities(loaded, split, callbacks)
    write_text(path, render(probs, fmt, source, names))
    labels, counts = np.unique(probs.argmax(axis=1), return_counts=True)
    return Prediction(path, fmt, len(split),
                      {int(k): int(v) for k, v in zip(labels, counts, strict=True)}, source,
                      names, current_backend())

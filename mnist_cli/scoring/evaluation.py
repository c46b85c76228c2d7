"""Evaluate a trained model: loss, accuracy, balanced accuracy, per-class report, confusion.

Data is checked against the model before any prediction, so a wrong shape or label set is
one clear error instead of a TensorFlow traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mnist_cli.backend import current_backend
from mnist_cli.data.class_names import ClassNames, check_count, expand, label_text, label_texts
from mnist_cli.data.types import Split
from mnist_cli.errors import DataError, UsageError
from mnist_cli.modeling.io import LoadedModel
from mnist_cli.scoring.metrics import balanced_accuracy, to_probabilities

BATCH_SIZE = 256


@dataclass
class EvaluationResult:
    """Metrics for one labelled set; arrays kept for plots, left out of `to_dict`."""

    source: str
    n: int
    loss: float
    accuracy: float
    balanced_accuracy: float
    per_class: list[dict[str, Any]]
    averages: dict[str, dict[str, Any]]
    confusion: list[list[int]]
    y: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, int))
    probs: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    class_names: list[str] | None = None
    """Label names (per-class rows get a `name`); None: labels are shown as numbers."""
    backend: str | None = None
    """The Keras backend that ran the model (`tensorflow` or `jax`)."""

    @property
    def pred(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "examples": self.n, "loss": self.loss,
            "accuracy": self.accuracy, "balanced_accuracy": self.balanced_accuracy,
            "per_class": self.per_class, "averages": self.averages,
            "confusion_matrix": self.confusion,
            **({"class_names": self.class_names} if self.class_names else {}),
            **({"backend": self.backend} if self.backend else {}),
        }

    def named(self, names: list[str] | None) -> EvaluationResult:
        """This result with label names: each per-class row gets its class's `name`."""
        self.class_names = names
        if names:
            for row in self.per_class:
                row["name"] = label_text(row["class"], names)
        return self


def shape_text(shape: tuple[int, ...]) -> str:
    return f"{'x'.join(str(d) for d in shape)} images ({int(np.prod(shape))} features)"


def check_inputs(split: Split, loaded: LoadedModel, source: str, require_labels: bool) -> None:
    """Empty data, image shape vs the model's input, labels vs the model's classes."""
    if len(split) == 0:
        raise DataError(f"{source}: no examples to use (the input is empty); "
                        "pass a file with at least one image")
    got, want = tuple(int(d) for d in split.x.shape[1:]), loaded.image_shape
    if got != want:
        raise DataError(f"{source}: the data has {shape_text(got)} but the model expects "
                        f"{shape_text(want)}; use data of the shape the model was trained on")
    if split.y is None:
        if require_labels:
            raise DataError(f"{source}: the data has no labels; evaluation needs a label "
                            "column (use `mnist-cli predict` for unlabelled data)")
        return
    bad = (split.y < 0) | (split.y >= loaded.num_classes)
    if bad.any():
        values = ", ".join(str(v) for v in sorted({int(v) for v in split.y[bad]})[:5])
        raise DataError(f"{source}: labels {values} are outside the model's classes "
                        f"0..{loaded.num_classes - 1}; check the label column")


def load_split(loaded: LoadedModel, spec: str | None, *, image_shape: list[int] | None = None,
               data_dir: str | None = None, require_labels: bool = True,
               label_column: str = "auto", pixel_max: int | None = None,
               notes: list[str] | None = None) -> tuple[Split, str]:
    """The data to run the model on: `spec`, or by default the run's own test split.

    `label_column` and `pixel_max` read `spec` as `data.label_column` / `data.pixel_max` do;
    the data's notes (e.g. the pixel scale chosen) are appended to `notes` when given.
    """
    if spec is None:
        return run_test_split(loaded)
    from mnist_cli.data import load_inputs

    how = {"label_column": label_column, "pixel_max": pixel_max}
    try:
        split, desc = load_inputs(spec, image_shape=image_shape, data_dir=data_dir,
                                  split="test", require_labels=require_labels, **how)
    except DataError:
        if image_shape is not None:
            raise
        split, desc = retry_with_model_shape(loaded, spec, data_dir, require_labels, **how)
    check_inputs(split, loaded, desc.source, require_labels)
    if notes is not None:
        notes.extend(desc.notes)
    return split, desc.source


def retry_with_model_shape(loaded: LoadedModel, spec: str, data_dir: str | None,
                           require_labels: bool, **how: Any) -> tuple[Split, Any]:
    """Flat rows whose width is not a square may still fit the model's own H x W."""
    from mnist_cli.data import load_inputs

    hw = list(loaded.image_shape[:2])
    try:
        return load_inputs(spec, image_shape=hw, data_dir=data_dir, split="test",
                           require_labels=require_labels, **how)
    except DataError as exc:
        raise DataError(f"{exc.message} (the model expects "
                        f"{shape_text(loaded.image_shape)})") from None


def run_test_split(loaded: LoadedModel) -> tuple[Split, str]:
    """Rebuild the exact test split the run was scored on (same spec, same seed)."""
    if loaded.config is None:
        raise UsageError(f"{loaded.model_path}: no run config next to this model, so there is "
                         "no default data; pass --data SPEC")
    from mnist_cli.data.dataset import load_run_dataset
    from mnist_cli.runs.rundir import check_split

    data = load_run_dataset(loaded.config)
    check_split(loaded.run_dir, data.description, ("test",),
                "pass --data SPEC to evaluate on explicit data")
    source = f"{data.description.source} (test split)"
    check_inputs(data.test, loaded, source, require_labels=True)
    return data.test, source


def probabilities(loaded: LoadedModel, split: Split, callbacks: list[Any] | None = None,
                  batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Class probabilities for every example (softmax applied when the model gives logits),
    through the engine's one predict path (`training.fused.Engine.predict`), the one a run's
    own test score used, under any strategy. `batch_size` is the global batch."""
    from mnist_cli.training.fused import Engine

    raw = Engine.predict(loaded.model, Split(split.x, None), batch_size, loaded.scale,
                         callbacks)
    return to_probabilities(np.asarray(raw).astype(np.float64), loaded.output_form)


def model_class_names(loaded: LoadedModel, asked: ClassNames = None) -> list[str] | None:
    """The names to show for this model: `asked` (--class-names) if given, else the run's
    recorded `data.class_names`; one per model output, else UsageError (exit 2)."""
    if asked is None and loaded.config is not None:
        asked = loaded.config.data.class_names
    names = expand(asked)
    if names is not None:
        check_count(names, loaded.num_classes, f"the model {loaded.model_path}")
    return names


def evaluate_model(loaded: LoadedModel, split: Split, source: str = "data",
                   callbacks: list[Any] | None = None, strategy: Any = None,
                   class_names: ClassNames = None) -> EvaluationResult:
    """Predict once and score: every metric comes from the same probabilities.

    With a `strategy` (the one the model was loaded under), the global batch is
    BATCH_SIZE per replica times the replicas. `class_names` (a list or 'fashion')
    overrides the run's recorded names. The result records the backend that ran.
    """
    names = model_class_names(loaded, class_names)
    check_inputs(split, loaded, source, require_labels=True)
    probs = probabilities(loaded, split, callbacks, global_batch(strategy))
    assert split.y is not None
    result = score_probabilities(split.y.astype(np.int64), probs, source).named(names)
    result.backend = current_backend()
    return result


def global_batch(strategy: Any) -> int:
    """BATCH_SIZE per replica of `strategy` (BATCH_SIZE for None)."""
    return BATCH_SIZE * (1 if strategy is None else int(strategy.num_replicas_in_sync))


def score_probabilities(y: np.ndarray, probs: np.ndarray, source: str) -> EvaluationResult:
    """scikit-learn metrics on argmax labels; loss is mean cross-entropy."""
    from sklearn.metrics import accuracy_score, confusion_matrix

    pred = probs.argmax(axis=1)
    labels = list(range(probs.shape[1]))
    picked = np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0)
    per_class, averages = class_report(y, pred, labels)
    return EvaluationResult(
        source=source, n=int(len(y)), loss=float(-np.log(picked).mean()),
        accuracy=float(accuracy_score(y, pred)),
        balanced_accuracy=balanced_accuracy(y, pred),
        per_class=per_class, averages=averages,
        confusion=confusion_matrix(y, pred, labels=labels).tolist(), y=y, probs=probs,
    )


def class_report(y: np.ndarray, pred: np.ndarray,
                 labels: list[int]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """scikit-learn's classification report, as per-class rows plus macro/weighted averages.

    `zero_division=nan`: a ratio with nothing to count (recall of a class absent from `y`,
    precision of a class never predicted) is undefined, null here, and left out of the
    averages, so classes missing from a small set do not count as 0 in the macro averages.
    """
    from sklearn.metrics import classification_report

    rep = classification_report(y, pred, labels=labels, output_dict=True,
                                zero_division=np.nan)
    rows = [{"class": c, "precision": _defined(rep[str(c)]["precision"]),
             "recall": _defined(rep[str(c)]["recall"]), "f1": _defined(rep[str(c)]["f1-score"]),
             "support": int(rep[str(c)]["support"]), "absent": int(rep[str(c)]["support"]) == 0}
            for c in labels]
    averages = {k: {m: _defined(v) for m, v in rep[k].items()}
                for k in ("macro avg", "weighted avg") if k in rep}
    return rows, averages


def _defined(value: float) -> float | None:
    """A metric as JSON can hold it: NaN (undefined) becomes None (null)."""
    return None if np.isnan(value) else float(value)


def save_evaluation(loaded: LoadedModel, result: EvaluationResult, x: np.ndarray,
                    plots: bool = True) -> dict[str, str]:
    """evaluation.json, confusion_matrix.png and errors.png in the run directory."""
    import mnist_cli.runs.rundir as rundir
    from mnist_cli.runs.artifacts import write_json

    out = loaded.out_dir
    files = {"evaluation": str(out / rundir.EVALUATION)}
    if plots:
        from mnist_cli.plots import write_confusion, write_errors

        names = result.class_names
        files["confusion_matrix"] = str(write_confusion(
            out / rundir.CONFUSION, result.confusion,
            title=f"Confusion matrix (accuracy {result.accuracy:.1%}, n={result.n})",
            labels=label_texts(len(result.confusion), names) if names else None))
        files["errors"] = str(write_errors(out / rundir.ERRORS, x, result.y, result.probs,
                                           class_names=names))
    write_json(out / rundir.EVALUATION, {**result.to_dict(), "model": str(loaded.model_path),
                                         "output_form": loaded.output_form, "files": files})
    return files

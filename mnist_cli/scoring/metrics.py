"""Test-set metrics from one prediction pass (loss, accuracy, balanced accuracy)."""

from __future__ import annotations

import numpy as np


def to_probabilities(outputs: np.ndarray, output_form: str) -> np.ndarray:
    """Softmax for logits; probability outputs pass through (renormalised for safety)."""
    if output_form == "logits":
        z = outputs - outputs.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    total = outputs.sum(axis=1, keepdims=True)
    return outputs / np.where(total == 0, 1, total)


def balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean recall over the classes present in `y` (scikit-learn): a class the data lacks
    is left out, not counted as 0. Its warning when `pred` holds such a class is expected
    here and silenced (those predictions already lower the true classes' recall)."""
    import warnings

    from sklearn.metrics import balanced_accuracy_score

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
        return float(balanced_accuracy_score(y, pred))


def score(outputs: np.ndarray, y: np.ndarray, output_form: str) -> dict[str, float]:
    """Loss, accuracy and balanced accuracy; labels come from argmax of the outputs."""
    from sklearn.metrics import accuracy_score

    probs = to_probabilities(outputs, output_form)
    pred = outputs.argmax(axis=1)
    picked = np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0)
    return {
        "test_loss": float(-np.log(picked).mean()),
        "test_accuracy": float(accuracy_score(y, pred)),
        "balanced_accuracy": balanced_accuracy(y, pred),
    }

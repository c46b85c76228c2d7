"""No table of any command cuts a value at 80 columns (a CI log): each is printed through
the CLI's stdout console, whose render hook folds a too-long value instead of cutting it
with "…", and gradcheck's tables are shaped to keep every number on one line."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from mnist_cli.cli import console
from mnist_cli.gradients.render import render
from mnist_cli.gradients.report import DirectionCheck, GradcheckResult, VariableCheck

LONG_PATH = "/home/runner/work/project/project/runs/mlp_relu-20261205-235959-a-long-name"
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]


def at_80(*renderables: Any) -> str:
    """What the CLI prints for `renderables` in an 80-column log."""
    log = Console(file=io.StringIO(), width=80, highlight=False)
    for hook in console.out._render_hooks:  # the same hooks as the CLI's stdout
        log.push_render_hook(hook)
    for r in renderables:
        log.print(r)
    return log.file.getvalue()


def check(text: str, values: list[str]) -> None:
    assert "…" not in text, text
    assert all(len(line) <= 80 for line in text.splitlines()), text
    for value in values:
        assert value in text, f"{value!r} cut:\n{text}"


def gradcheck_result(two_references: bool) -> GradcheckResult:
    """A CNN's check with long names and large sizes (and both references for logistic)."""
    shapes = {"conv2d/kernel": [3, 3, 1, 32], "batch_normalization/moving_variance": [32],
              "dense_1/kernel": [4608, 128], "dense_1/bias": [128]}
    variables = []
    for i, (name, shape) in enumerate(shapes.items()):
        size = int(__import__("math").prod(shape))
        variables.append(VariableCheck(
            name, shape, size, min(100, size), 4.3e-10, [0], 3e-11, kinks=12,
            kink_rel_diff=8.4e-3, verdict="inconclusive" if i else "warning",
            reference="gradient-tape" if two_references and i % 2 else "finite-difference"))
    directions = [DirectionCheck(n, 592000, 16, 16, 7, 1.5e-10, 4.1e-12) for n in shapes]
    return GradcheckResult("cnn", variables, 4.7e-10, "warning",
                           settings={"epsilon": 1e-5, "backend": "tensorflow",
                                     "autodiff": "GradientTape"},
                           seconds=11.2, directional=directions, directional_seconds=2.1)


@pytest.mark.parametrize("two_references", [False, True])
def test_gradcheck_tables_keep_every_number_whole(two_references: bool) -> None:
    text = at_80(render(gradcheck_result(two_references)))
    check(text, ["100/589824", "4.3e-10", "3e-11", "8.4e-03", "inconclusive", "warning",
                 "592000", "16/16", "1.5e-10", "4.1e-12", "4608x128"])
    assert "sha…" not in text and "rel di…" not in text


def test_evaluate_train_and_compare_tables_fold_long_values() -> None:
    from mnist_cli.cli.evaluate_cmd import confusion_table, metrics_table, report_table
    from mnist_cli.cli.train_cmd import summary_table
    from mnist_cli.comparison.report import table

    res = {"source": LONG_PATH + "/t10k.csv", "loss": 0.3, "accuracy": 0.9,
           "balanced_accuracy": 0.9, "examples": 10000, "class_names": FASHION,
           "per_class": [{"class": i, "name": n, "precision": 0.9, "recall": 0.91, "f1": 0.905,
                          "support": 1000} for i, n in enumerate(FASHION)],
           "averages": {"macro avg": {"precision": 0.9, "recall": 0.9, "f1-score": 0.9,
                                      "support": 10000}},
           "confusion_matrix": [[1000 if i == j else 12 for j in range(10)]
                                for i in range(10)]}
    metrics = {"test_accuracy": 0.9123, "balanced_accuracy": 0.9, "test_loss": 0.3,
               "epochs_run": 10, "final": {"loss": 0.2, "val_loss": 0.3},
               "train_seconds": 12.0, "samples_per_second": 40000, "run_dir": LONG_PATH}
    names = ["mlp_relu-probabilities-with-a-long-suffix", "cnn-logits-with-an-even-longer-one"]
    variants = [{"name": n, "rank": i + 1, "status": "completed", "params": 123456,
                 "val_accuracy": 0.9712, "final_loss": 0.1234, "final_val_loss": 0.2345,
                 "epochs_run": 128, "train_seconds": 1234.5, "test_accuracy": 0.9688,
                 "test_accuracy_ci95": [0.9601, 0.9775], "error": None}
                for i, n in enumerate(names)]
    summary = {"winner": names[0], "ranked_by": "val_accuracy", "variants": variants,
               "ranking": "Ranked by validation accuracy.", "repeats": 2, "seeds": [1, 2],
               "tied_with_winner": []}
    text = at_80(metrics_table(res), report_table(res), confusion_table(res),
                 summary_table(metrics), table(summary))
    check(text, ["0.9123", "10,000", "0.905", "1000", "123,456", "0.9712", "0.969±0.009",
                 "1234.5", "128"])

"""Typed results of the API calls, read from the files the run wrote (so a result from
`train()` and `load_run()` on its directory hold the same values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import UsageError


@dataclass
class Run:
    """One run directory: metrics.json, history.csv as a DataFrame, the Keras model (None
    when the run failed or was interrupted before saving it) and the resolved config."""

    run_dir: Path
    metrics: dict[str, Any]
    history: Any  # pandas.DataFrame indexed by epoch (1-based)
    model: Any = field(default=None, repr=False)
    config: RunConfig | None = None

    @property
    def status(self) -> str:
        return str(self.metrics.get("status", "unknown"))


def read_history(path: Path) -> Any:
    """history.csv as a DataFrame indexed by epoch (empty when the file is missing)."""
    import pandas as pd

    if not path.is_file():
        return pd.DataFrame(index=pd.Index([], name="epoch"))
    return pd.read_csv(path, index_col="epoch")


def load_run(path: str | Path, *, model: Any = None) -> Run:
    """The Run of an existing run directory; the model loads with Keras safe mode unless
    given (`train()` passes the one it holds)."""
    from mnist_cli.modeling.io import MODEL_FILE, load_model, read_run_config
    from mnist_cli.runs.rundir import HISTORY, METRICS, read_metrics

    run_dir = Path(path)
    metrics_path = run_dir / METRICS
    if not metrics_path.is_file():
        raise UsageError(f"{run_dir}: no {METRICS} here; pass a run directory written by "
                         "`mnist-cli train` or mnist_cli.train()")
    try:
        metrics = read_metrics(run_dir)  # any schema version (none: version 0)
    except ValueError as exc:
        raise UsageError(f"{metrics_path}: not valid JSON ({exc})") from None
    if model is None and (run_dir / MODEL_FILE).is_file():
        model = load_model(run_dir).model
    return Run(run_dir, metrics, read_history(run_dir / HISTORY), model,
               read_run_config(run_dir))


@dataclass
class Evaluation:
    """`evaluate()`: the metrics `--json` prints, per-class and confusion tables, files."""

    metrics: dict[str, Any]
    per_class: Any  # DataFrame: class, precision, recall, f1, support
    confusion_matrix: Any  # DataFrame: rows true class, columns predicted class
    probabilities: Any = field(repr=False)  # numpy (examples, classes)
    model: Any = field(repr=False)
    run_dir: Path | None
    files: dict[str, str]


@dataclass
class Prediction:
    """`predict()`: the file written and its rows as a DataFrame."""

    path: Path
    format: str
    examples: int
    label_counts: dict[int, int]
    source: str
    predictions: Any = field(repr=False)  # DataFrame read back from `path`


@dataclass
class Comparison:
    """`compare()`: the comparison object (`summary`, as comparison.json holds it), its
    table (one row per variant, best first), the pairwise tests and their sentences."""

    compare_dir: Path
    winner: str | None
    table: Any  # DataFrame
    pairs: Any  # DataFrame, one row per pair of variants
    sentences: list[str]
    summary: dict[str, Any] = field(repr=False)

    def run(self, variant: str, seed: int | None = None) -> Run:
        """The Run of one variant (its first seed unless `seed` is given)."""
        for entry in self.summary["variants"]:
            for r in entry["runs"] if entry["name"] == variant else []:
                if seed is None or r["seed"] == seed:
                    return load_run(r["run_dir"])
        names = ", ".join(e["name"] for e in self.summary["variants"])
        raise UsageError(f"no run of variant {variant!r}"
                         f"{'' if seed is None else f' with seed {seed}'}; variants: {names}")

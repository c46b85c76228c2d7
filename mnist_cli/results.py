"""What the API's functions return: one typed result per command (Run, Evaluation,
Prediction, Comparison, GradCheck), each read from the files the command wrote, so a result
from `train()` and `load_run()` on its directory hold the same values. Each prints as one
short line; the data is in its fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from mnist_cli.config.schema import RunConfig
from mnist_cli.errors import UsageError


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


@dataclass(repr=False)
class Run:
    """One run directory: metrics.json, history.csv as a DataFrame, the Keras model (None
    when the run failed or was interrupted before saving it) and the resolved config."""

    run_dir: Path
    metrics: dict[str, Any]
    history: Any  # pandas.DataFrame indexed by epoch (1-based)
    model: Any = None
    config: RunConfig | None = None
    chief: bool = True
    """False on multi-worker tasks other than the chief, which keep no run directory."""

    @property
    def status(self) -> str:
        return str(self.metrics.get("status", "unknown"))

    def __repr__(self) -> str:
        return (f"Run('{self.run_dir}', {self.status}, test_accuracy="
                f"{_number(self.metrics.get('test_accuracy'))}, "
                f"epochs={self.metrics.get('epochs_run', '-')})")


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


@dataclass(repr=False)
class Evaluation:
    """`evaluate()`: the metrics `--json` prints, per-class and confusion tables, files."""

    metrics: dict[str, Any]
    per_class: Any  # DataFrame: class, precision, recall, f1, support
    confusion_matrix: Any  # DataFrame: rows true class, columns predicted class
    probabilities: Any  # numpy (examples, classes)
    model: Any
    run_dir: Path | None
    files: dict[str, str]
    chief: bool = True

    def __repr__(self) -> str:
        m = self.metrics
        return (f"Evaluation('{self.run_dir or m.get('source')}', accuracy="
                f"{_number(m.get('accuracy'))}, balanced_accuracy="
                f"{_number(m.get('balanced_accuracy'))}, examples={m.get('examples')})")


@dataclass(repr=False)
class Prediction:
    """`predict()`: the file written and, read back on first use, its rows as a DataFrame."""

    path: Path
    format: str
    examples: int
    label_counts: dict[int, int]
    source: str
    class_names: list[str] | None = None
    backend: str | None = None
    """The Keras backend that ran the model (`tensorflow` or `jax`)."""

    @cached_property
    def predictions(self) -> Any:
        """The written file as a DataFrame (what a notebook wants to look at)."""
        import json

        import pandas as pd

        if self.format == "json":
            return pd.DataFrame(json.loads(self.path.read_text(encoding="utf-8"))["predictions"])
        return pd.read_csv(self.path)

    def to_dict(self) -> dict[str, Any]:
        """What `predict --json` prints."""
        named = {"class_names": self.class_names} if self.class_names else {}
        return {"path": str(self.path), "format": self.format, "examples": self.examples,
                "label_counts": {str(k): v for k, v in self.label_counts.items()}, **named,
                "source": self.source, **({"backend": self.backend} if self.backend else {})}

    def __repr__(self) -> str:
        return f"Prediction('{self.path}', {self.format}, examples={self.examples})"


@dataclass(repr=False)
class Comparison:
    """`compare()`: the comparison object (`summary`, as comparison.json holds it), its
    table (one row per variant, best first), the pairwise tests and their sentences."""

    compare_dir: Path
    winner: str | None
    table: Any  # DataFrame
    pairs: Any  # DataFrame, one row per pair of variants
    sentences: list[str]
    summary: dict[str, Any]
    chief: bool = True

    def run(self, variant: str, seed: int | None = None) -> Run:
        """The Run of one variant (its first seed unless `seed` is given)."""
        for entry in self.summary["variants"]:
            for r in entry["runs"] if entry["name"] == variant else []:
                if seed is None or r["seed"] == seed:
                    return load_run(r["run_dir"])
        names = ", ".join(e["name"] for e in self.summary["variants"])
        raise UsageError(f"no run of variant {variant!r}"
                         f"{'' if seed is None else f' with seed {seed}'}; variants: {names}")

    def __repr__(self) -> str:
        names = [e["name"] for e in self.summary.get("variants", [])]
        return (f"Comparison('{self.compare_dir}', winner={self.winner!r}, "
                f"variants={len(names)}, seeds={len(self.summary.get('seeds', []))})")


@dataclass(repr=False)
class GradCheck:
    """`gradcheck()`: the verdict (pass, warning, fail, inconclusive), the exit code the CLI
    gives it, and the whole check (`check`: per-variable and directional figures)."""

    verdict: str
    exit_code: int
    reason: str | None
    report: dict[str, Any]
    """What `gradcheck --json` prints and gradcheck.json holds."""
    check: Any = field(default=None)
    """The core's GradcheckResult (what the CLI renders as tables)."""

    def __repr__(self) -> str:
        return (f"GradCheck({self.verdict}, model={self.report.get('model')!r}, "
                f"rel_diff={self.report.get('overall_rel_diff', float('nan')):.2e})")

"""Progress and status lines on stderr, for the CLI and the Python API alike.

A `Display` is what one command (or API call) shows: status lines (data notes, the strategy,
"evaluating ...") and progress in one of the `--progress` modes:

- `bar`: a rich bar (in a terminal; in Jupyter only with ipywidgets, which rich needs there);
- `plain`: one log line per epoch (every few seconds of a long predict), never wrapped or
  styled, so a CI log or a notebook without ipywidgets gets readable lines and no escape codes;
- `none`: no progress; `auto` picks `bar` where a bar can be drawn, else `plain`.

Training progress is a `keras.callbacks.Callback` using only the standard hooks, so any loop
that drives callbacks the Keras way shows it. The library never prints unless given a Display
(the API's `progress=True`); the CLI builds one from its flags.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleRenderable, RenderHook
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mnist_cli.errors import UsageError


def stderr_console(jupyter: bool | None = None) -> Console:
    """stderr. In Jupyter (detected, or `jupyter=True`) rich shows each print as an output
    (HTML, in colour); its plain-text form is kept free of terminal escape codes."""
    console = Console(stderr=True, highlight=False, force_jupyter=jupyter)
    if console.is_jupyter:
        return Console(stderr=True, highlight=False, force_jupyter=True, color_system=None)
    return console


err = stderr_console()
MODES = ("auto", "bar", "plain", "none")
SHORT = (("loss", "loss"), ("accuracy", "acc"), ("val_loss", "val_loss"),
         ("val_accuracy", "val_acc"))
PROGRESS_MIN = 5000  # examples; a smaller predict/evaluate finishes before progress would help
PLAIN_SECONDS = 5.0
"""The most often a plain predict/evaluate progress line is printed (its last line aside)."""


def jupyter_widgets() -> bool:
    """Whether rich can draw a live bar in Jupyter (it needs ipywidgets there; without it
    rich warns and shows nothing)."""
    return importlib.util.find_spec("ipywidgets") is not None


def resolve_mode(mode: str, quiet: bool = False) -> str:
    """`bar`, `plain` or `none` for this run (quiet means none; a bad mode is exit 2 first)."""
    if mode not in MODES:
        raise UsageError(f"--progress {mode!r} is not a progress mode; choose one of "
                         f"{', '.join(MODES)}")
    if quiet:
        return "none"
    if mode == "auto":
        mode = "bar" if err.is_terminal or err.is_jupyter else "plain"
    if mode == "bar" and err.is_jupyter and not jupyter_widgets():
        return "plain"
    return mode


def status(line: str) -> None:
    """A status line (rich markup) on stderr: a log (not a terminal) gets whole lines."""
    err.print(line, soft_wrap=not err.is_terminal)


def plain(line: str) -> None:
    """One log line, never wrapped or styled (a CI log is not 80 columns of terminal)."""
    err.print(line, markup=False, highlight=False, soft_wrap=True)


def uncut(renderable: Any) -> Any:
    """Fold, never cut, a value too long for its column (a path, a class name, a number in
    a squeezed column) in every table in `renderable` (a Group's too): rich's default cuts
    it with "…", which a CI log's 80 columns did. Wrapping columns are the ones rich narrows
    first; a `no_wrap` column (numbers) keeps its width unless nothing else is left."""
    from rich.console import Group
    from rich.table import Table

    if isinstance(renderable, Table):
        for column in renderable.columns:
            if not column.no_wrap:
                column.overflow = "fold"
    elif isinstance(renderable, Group):
        for part in renderable.renderables:
            uncut(part)
    return renderable


class UncutTables(RenderHook):
    """A console render hook applying `uncut` to everything printed (the CLI's stdout)."""

    def process_renderables(self, renderables: list[ConsoleRenderable]
                            ) -> list[ConsoleRenderable]:
        return [uncut(r) for r in renderables]


def make_progress() -> Progress:
    """Label, bar, count, ETA, then the metrics last, so a narrow terminal cuts only those."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=12),
        MofNCompleteColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(compact=True),
        TextColumn("{task.fields[stats]}"),
        console=err,
        transient=False,
    )


def close(progress: Progress | None, exc: tuple[object, ...]) -> None:
    """Stop a live display on its finished state: rich's `Live.stop()` skips the final
    refresh in Jupyter, which left a notebook's bar on a stale frame ("4/5")."""
    if progress is not None:
        progress.refresh()
        progress.__exit__(*exc)  # type: ignore[arg-type]


def _fmt(logs: dict[str, Any] | None) -> str:
    """`loss 0.2237 acc 0.9314 | val 0.2244 acc 0.9281`: short enough for 80 columns."""
    logs = logs or {}
    parts = []
    for prefix, text in (("", ""), ("val_", "| val ")):
        if prefix + "loss" in logs:
            part = f"{text}{'' if prefix else 'loss '}{float(logs[prefix + 'loss']):.4f}"
            if prefix + "accuracy" in logs:
                part += f" acc {float(logs[prefix + 'accuracy']):.4f}"
            parts.append(part)
    return " ".join(parts)


def epoch_line(epoch: int, epochs: int, logs: dict[str, Any] | None, seconds: float,
               samples: int | None = None, label: str | None = None) -> str:
    """`epoch 3/10  loss 0.4100  acc 0.8700  val_loss 0.4500  val_acc 0.8600  2.1 s
    41,000 samples/s` (prefixed `label: ` when several models train in one log)."""
    logs = logs or {}
    parts = [f"epoch {epoch}/{epochs}"]
    parts += [f"{short} {float(logs[key]):.4f}" for key, short in SHORT if key in logs]
    parts.append(f"{seconds:.1f} s")
    if samples:
        parts.append(f"{samples / max(seconds, 1e-9):,.0f} samples/s")
    line = "  ".join(parts)
    return f"{label}: {line}" if label else line


def progress_callback(progress: Progress, label: str = "train") -> Any:
    """A keras Callback driving two bars: epochs and steps within the epoch."""
    from mnist_cli.backend import import_keras

    keras = import_keras()

    class RichProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            epochs = self.params.get("epochs") or 1
            self.epoch_task = progress.add_task(label, total=epochs, stats="")
            self.step_task = progress.add_task("  steps", total=self.params.get("steps"), stats="")

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            progress.reset(self.step_task, total=self.params.get("steps"), stats="")

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            progress.update(self.step_task, completed=batch + 1, stats=_fmt(logs))

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            progress.update(self.epoch_task, completed=epoch + 1, stats=_fmt(logs))

    return RichProgress()


def plain_callback(samples: int | None = None, label: str | None = None) -> Any:
    """A keras Callback printing one `epoch_line` per finished epoch."""
    from mnist_cli.backend import import_keras

    class PlainProgress(import_keras().callbacks.Callback):
        started = 0.0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            seconds = time.perf_counter() - self.started
            plain(epoch_line(epoch + 1, self.params.get("epochs") or epoch + 1, logs,
                             seconds, samples, label))

    return PlainProgress()


class TrainDisplay:
    """What `train` and `compare` show while fitting; use as a context manager around the
    fits and pass `callbacks(label)` to each (`labelled`: several runs share one log)."""

    def __init__(self, mode: str, samples: int | None = None, labelled: bool = False,
                 hooks: list[Any] | None = None) -> None:
        self.mode, self.samples, self.labelled = mode, samples, labelled
        self.hooks = list(hooks or [])
        self.progress = make_progress() if self.mode == "bar" else None
        self.runs_task: Any = None

    def __enter__(self) -> TrainDisplay:
        (self.progress or nullcontext()).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        close(self.progress, exc)

    def sub_run_done(self, line: str, done: int, total: int) -> None:
        """One finished sub-run of several running at once (compare --workers): a line, and
        in a terminal a bar of sub-runs done."""
        if self.progress is not None:
            if self.runs_task is None:
                self.runs_task = self.progress.add_task("sub-runs", total=total, stats="")
            self.progress.update(self.runs_task, completed=done)
            self.progress.console.print(line, markup=False, highlight=False)
        elif self.mode == "plain":
            plain(line)

    def callbacks(self, label: str) -> list[Any]:
        if self.progress is not None:
            return [progress_callback(self.progress, label), *self.hooks]
        if self.mode == "plain":
            return [plain_callback(self.samples, label if self.labelled else None), *self.hooks]
        return list(self.hooks)


def batch_callback(display: BatchDisplay) -> Any:
    """A keras Callback reporting predicted batches to `display`."""
    from mnist_cli.backend import import_keras

    class PredictProgress(import_keras().callbacks.Callback):
        def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
            display.advance(batch + 1)

    return PredictProgress()


class BatchDisplay:
    """Progress of a long predict/evaluate: a bar, or a plain line at most every
    PLAIN_SECONDS and one when it ends (by time, not by percentage: a 0.2 s evaluate gets
    one line, not ten)."""

    clock = staticmethod(time.perf_counter)

    def __init__(self, mode: str, label: str, batches: int, examples: int) -> None:
        self.mode = mode
        self.label, self.batches, self.examples = label, max(batches, 1), examples
        self.progress = make_progress() if self.mode == "bar" else None
        self.task = (self.progress.add_task(label, total=self.batches, stats="")
                     if self.progress is not None else None)
        self.started = self.last = self.clock()

    def __enter__(self) -> BatchDisplay:
        (self.progress or nullcontext()).__enter__()
        self.started = self.last = self.clock()
        return self

    def __exit__(self, *exc: object) -> None:
        close(self.progress, exc)

    def callbacks(self) -> list[Any]:
        return [] if self.mode == "none" else [batch_callback(self)]

    def advance(self, done: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=done)
            return
        now = self.clock()
        if done < self.batches and now - self.last < PLAIN_SECONDS:
            return
        self.last = now
        per = -(-self.examples // self.batches)
        seen = min(done * per, self.examples)
        plain(f"{self.label} {100 * done // self.batches}%  {seen:,}/{self.examples:,} "
              f"examples  {now - self.started:.1f} s")


class Display:
    """What one command or API call shows on stderr: status lines (unless `quiet`) and
    progress in `mode` (auto, bar, plain, none; checked here, so a bad one is exit 2 before
    anything runs). `on_run_dir` hears where the call writes (the CLI keeps an internal
    error's traceback there)."""

    def __init__(self, mode: str = "auto", *, quiet: bool = False,
                 on_run_dir: Callable[[Path | None], None] | None = None) -> None:
        self.mode = resolve_mode(mode, quiet)
        self.quiet = quiet
        self.on_run_dir = on_run_dir
        self.hooks: list[Any] = []
        """Keras callbacks every training shown here also gets (MLflow's per-epoch
        logging: `mnist_cli.tracking.live`)."""

    @classmethod
    def of(cls, progress: bool | str | Display) -> Display:
        """The API's `progress=`: False shows nothing, True progress and status lines suited
        to where it runs, a mode name that mode, a Display itself (what the CLI passes)."""
        if isinstance(progress, Display):
            return progress
        if progress is True:
            return cls("auto")
        if progress is False or progress is None:
            return cls("none", quiet=True)
        return cls(str(progress))

    def notify(self, line: str) -> None:
        """A status line (rich markup), unless quiet."""
        if not self.quiet:
            status(line)

    def notes(self, notes: list[str]) -> None:
        """Data notes (pixel scale, layout, which data `auto` chose) as status lines."""
        from rich.markup import escape

        for note in notes:
            self.notify(f"[yellow]note:[/] {escape(note)}")

    def writing_to(self, run_dir: Path | None) -> None:
        if self.on_run_dir is not None:
            self.on_run_dir(Path(run_dir) if run_dir is not None else None)

    def training(self, samples: int | None = None, labelled: bool = False) -> TrainDisplay:
        """The display around fitting (`labelled`: several runs, as in compare)."""
        return TrainDisplay(self.mode, samples=samples, labelled=labelled, hooks=self.hooks)

    def batches(self, label: str, examples: int, batch_size: int) -> BatchDisplay:
        """The display of a predict/evaluate pass (none below PROGRESS_MIN examples)."""
        mode = self.mode if examples >= PROGRESS_MIN else "none"
        return BatchDisplay(mode, label, -(-examples // batch_size), examples)

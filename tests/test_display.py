"""Progress and status display (mnist_cli.display) where a notebook shows it: in a Jupyter
kernel, `progress=True` gives one line per epoch (labelled with the variant under compare),
no warnings and no escape codes; with ipywidgets, a bar per run labelled by what it is.

The kernel is simulated the way rich detects and uses one: a console with
`force_jupyter=True` renders each print through `IPython.display.display`, stood in for by
a recorder (IPython itself is not a dependency)."""

from __future__ import annotations

import io
import re
import sys
import types
import warnings
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from mnist_cli import display
from mnist_cli.display import Display, resolve_mode
from mnist_cli.errors import UsageError

EPOCH = re.compile(r"^(\w+): epoch (\d)/2  loss \d+\.\d{4}  acc \d\.\d{4}  val_loss ")


class Output:
    """ipywidgets.Output as rich's Live uses it: displayed once, then re-rendered into."""

    def __enter__(self) -> Output:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def clear_output(self, wait: bool = False) -> None:
        return None


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A Jupyter kernel without ipywidgets; returns the objects it displays, in order."""
    shown: list[Any] = []
    ipython = types.ModuleType("IPython")
    ipython_display = types.ModuleType("IPython.display")
    ipython_display.display = lambda obj, **kwargs: shown.append(obj)  # type: ignore[attr-defined]
    ipython.display = ipython_display  # type: ignore[attr-defined]
    ipython.version_info = (9, 0, 0)  # type: ignore[attr-defined]  # matplotlib reads these
    ipython.get_ipython = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", ipython_display)
    monkeypatch.setattr(display, "err", display.stderr_console(jupyter=True))
    monkeypatch.setattr(display, "jupyter_widgets", lambda: False)
    return shown


@pytest.fixture
def widgets(notebook: list[Any], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The same kernel with ipywidgets installed."""
    module = types.ModuleType("ipywidgets")
    module.Output = Output  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ipywidgets", module)
    monkeypatch.setattr(display, "jupyter_widgets", lambda: True)
    return notebook


def texts(shown: list[Any]) -> list[str]:
    """The plain text of every rendered output (rich's JupyterRenderable)."""
    return [obj.text for obj in shown if hasattr(obj, "text")]


def test_modes_follow_where_progress_can_be_drawn(notebook: list[Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_mode("auto") == "plain" and resolve_mode("bar") == "plain"
    monkeypatch.setattr(display, "jupyter_widgets", lambda: True)
    assert resolve_mode("auto") == "bar" and resolve_mode("none") == "none"
    assert resolve_mode("bar", quiet=True) == "none"
    with pytest.raises(UsageError, match="choose one of auto, bar, plain, none"):
        resolve_mode("fancy")
    monkeypatch.setattr(display, "err", Console(file=io.StringIO()))
    assert resolve_mode("auto") == "plain"  # a log file, e.g. CI


def test_progress_false_is_silent_and_true_shows_status(notebook: list[Any]) -> None:
    Display.of(False).notify("hidden")
    assert notebook == []
    Display.of(True).notify("[yellow]note:[/] shown")
    assert texts(notebook) == ["note: shown\n"]
    assert "\x1b" not in notebook[0].html and "\x1b" not in notebook[0].text


def compare_in(tmp_path: Path) -> tuple[Any, list[warnings.WarningMessage]]:
    from mnist_cli import compare

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = compare(activation=["softmax", "relu"], data="digits", epochs=2, seed=0,
                         run_dir=tmp_path / "cmp", progress=True)
    return result, [w for w in caught if "ipywidgets" in str(w.message)
                    or "rich" in w.filename]


@pytest.mark.slow
def test_compare_in_a_plain_notebook_prints_one_line_per_epoch(
        notebook: list[Any], tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    result, rich_warnings = compare_in(tmp_path)
    assert rich_warnings == []
    lines = [line for text in texts(notebook) for line in text.splitlines()]
    epochs = [m.group(1, 2) for m in map(EPOCH.match, lines) if m]
    assert epochs == [("softmax", "1"), ("softmax", "2"), ("relu", "1"), ("relu", "2")]
    assert any(line.startswith("comparing softmax, relu with seed(s) 0") for line in lines)
    assert not any("\x1b" in obj.text or "\x1b" in obj.html for obj in notebook)
    out, err = capfd.readouterr()
    assert "\x1b" not in out + err and "epoch 1/2" not in out + err  # all went to the cells
    assert result.winner in ("softmax", "relu")


@pytest.mark.slow
def test_compare_with_ipywidgets_draws_a_bar_per_variant(widgets: list[Any],
                                                         tmp_path: Path) -> None:
    _, rich_warnings = compare_in(tmp_path)
    assert rich_warnings == []
    assert sum(isinstance(obj, Output) for obj in widgets) == 1  # one live widget
    final = [text for text in texts(widgets) if "steps" in text][-1]  # the bars, at the end
    bars = [line.split()[0] for line in final.splitlines() if "2/2" in line]
    assert bars == ["softmax", "relu"]
    assert "\x1b" not in final


def frames(shown: list[Any]) -> list[str]:
    """The frames a live widget drew (rich prints an empty text as it stops)."""
    return [text for text in texts(shown) if text.strip()]


def test_a_notebook_bar_ends_on_its_finished_frame(widgets: list[Any]) -> None:
    """rich's Live.stop() does not redraw in Jupyter: without a refresh first, the widget kept
    whatever frame the refresh thread drew last (its first, here: 0/5)."""
    with display.BatchDisplay("bar", "evaluate", 5, 5000) as shown:
        for done in range(1, 6):
            shown.advance(done)
    assert "5/5" in frames(widgets)[-1]
    with display.TrainDisplay("bar") as train:
        assert train.progress is not None
        task = train.progress.add_task("mlp", total=3, stats="")
        train.progress.update(task, completed=3, stats="loss 0.1000")
    assert "3/3" in frames(widgets)[-1] and "loss 0.1000" in frames(widgets)[-1]


def test_plain_batch_progress_is_throttled_by_time(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A fast pass prints its last line only (it printed ten, one per 10%); a slow one a line
    every PLAIN_SECONDS, whatever the percentage."""
    monkeypatch.setattr(display, "err", Console(file=io.StringIO(), width=80))
    now = [0.0]
    monkeypatch.setattr(display.BatchDisplay, "clock", staticmethod(lambda: now[0]))
    lines: list[str] = []
    monkeypatch.setattr(display, "plain", lines.append)
    with display.BatchDisplay("plain", "evaluate", 10, 10000) as fast:
        for done in range(1, 11):
            now[0] += 0.02
            fast.advance(done)
    assert lines == ["evaluate 100%  10,000/10,000 examples  0.2 s"]
    lines.clear()
    now[0] = 0.0
    with display.BatchDisplay("plain", "predict", 100, 100000) as slow:
        for done in range(1, 101):
            now[0] += 0.25  # 25 s in all
            slow.advance(done)
    assert [line.split()[1] for line in lines] == ["20%", "40%", "60%", "80%", "100%"]

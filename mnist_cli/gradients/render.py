"""The rich tables of a gradient check: sampled entries (with kinks), then directions."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from mnist_cli.gradients.report import PASS_BELOW, WARN_BELOW, GradcheckResult

_STYLE = {"pass": "green", "warning": "yellow", "fail": "bold red",
          "inconclusive": "bold yellow"}
_REF = {"finite-difference": "FD", "gradient-tape": "tape"}


def _fmt(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.1e}"


def _verdict(verdict: str, judged: bool = True) -> str:
    return f"[{_STYLE.get(verdict, '')}]{verdict if judged else 'noise'}[/]"


def render(result: GradcheckResult) -> Any:
    """Both tables (per-entry sample, directional) as one rich renderable."""
    from rich.console import Group

    parts: list[Any] = [entry_table(result)]
    if result.directional:
        parts.append(direction_table(result))
    verdict = f"verdict: {_verdict(result.verdict)}"
    if result.reason:
        verdict += f" ({result.reason})"
    return Group(*parts, verdict)


def narrow_table(title: str, caption: str) -> Any:
    """A table that fits 80 columns (a CI log) without cutting a value: no vertical rules,
    one space either side of a cell."""
    from rich import box
    from rich.table import Table

    return Table(title=title, caption=caption, box=box.SIMPLE_HEAD, padding=(0, 1),
                 collapse_padding=True, show_edge=False)


def add_column(table: Any, header: str, first: bool = False, left: bool = False) -> None:
    """Numbers and verdicts never wrap (the table is narrow enough for them at 80 columns);
    the first column takes the rest, a long variable name (and its shape, after it) wrapping
    or folding onto further lines rather than being cut."""
    if first:
        table.add_column(header, justify="left", overflow="fold", min_width=8)
    else:
        table.add_column(header, justify="left" if left else "right", no_wrap=True)


def entry_table(result: GradcheckResult) -> Any:
    """One row per variable (its shape after its name), per reference, then the overall
    figure.

    Kept narrow enough for an 80-column terminal: FD = finite differences, tape = the
    backend's autodiff (GradientTape, or jax.value_and_grad).
    """
    eps, settings = result.settings.get("epsilon"), result.settings
    where = ", ".join(s for s in (settings.get("dtype", "float64"), settings.get("backend")) if s)
    title = (f"gradcheck {result.model} ({where}), sampled entries: "
             f"{_verdict(result.entry_verdict)}")
    refs = {_REF.get(v.reference, v.reference) for v in result.variables}
    show_ref = len(refs) > 1
    tape = f"tape = {settings.get('autodiff', 'autodiff')}; " if show_ref else ""
    table = narrow_table(title, f"eps={eps}; rel diff = relative L2 difference; "
                         f"pass < {PASS_BELOW:g}, warning < {WARN_BELOW:g}; FD = finite "
                         f"differences; {tape}{result.seconds:.1f}s")
    cols = ["variable", *(["vs"] if show_ref else []), "checked", "rel diff", "worst",
            "kinks", "kink diff", "verdict"]
    for col in cols:
        add_column(table, col, first=col == "variable", left=col == "vs")
    for v in result.variables:
        worst = "-" if v.worst_index is None else f"{v.worst_abs_diff:.0e}"
        ref = [_REF.get(v.reference, v.reference)] if show_ref else []
        shape = "x".join(map(str, v.shape)) or "scalar"
        table.add_row(f"{escape(v.name)} [dim]{shape}[/]", *ref, f"{v.checked}/{v.size}",
                      _fmt(v.rel_diff), worst, str(v.kinks), _fmt(v.kink_rel_diff),
                      _verdict(v.verdict, v.judged))
    table.add_section()
    checked = sum(v.checked for v in result.variables)
    table.add_row("overall", *([""] if show_ref else []), str(checked),
                  _fmt(result.overall_rel_diff), "", str(result.total_kinks), "",
                  _verdict(result.entry_verdict, result.overall_judged))
    return table


def direction_table(result: GradcheckResult) -> Any:
    """One row for the whole model, one per variable: every entry is in every direction."""
    first = result.directional[0]
    title = (f"directional derivatives, {first.directions} random unit directions each "
             f"(every entry): {_verdict(result.directional_verdict or 'pass')}")
    table = narrow_table(title, "g·v (autodiff) vs (L(θ+εv) - L(θ-εv)) / 2ε; samples "
                         "straddling a kink are dropped from both sides; "
                         f"{result.directional_seconds:.1f}s")
    for col in ("directions over", "entries", "judged", "dropped", "rel diff", "worst",
                "verdict"):
        add_column(table, col, first=col == "directions over")
    for d in result.directional:
        table.add_row(d.name, str(d.size), f"{d.judged_directions}/{d.directions}",
                      str(d.dropped_samples), _fmt(d.rel_diff), _fmt(d.worst_abs_diff),
                      _verdict(d.verdict, d.judged))
    return table

"""Bounded dependencies: pyproject.toml bounds every pinned library on both sides, the
installed versions are inside (a newer one fails here until its bound is raised: see
docs/development.md), and `mnist-cli env` reports each version against its range."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import mnist_cli.dependencies as deps
from mnist_cli.dependencies import PINNED, Pin, installed_version, pin
from tests.helpers import ROOT

tomllib = pytest.importorskip("tomllib")


def pyproject_requirements() -> list[str]:
    """Every requirement of pyproject.toml, as `Requires-Dist` lines (extras marked)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra, reqs in project["optional-dependencies"].items():
        lines += [f'{r}; extra == "{extra}"' for r in reqs]
    return lines


def test_every_pinned_library_is_bounded_on_both_sides_and_keras_is_declared() -> None:
    lines = pyproject_requirements()
    ranges = deps.tested_ranges(lines)
    assert sorted(ranges) == sorted(PINNED)
    for name, spec in ranges.items():
        ops = {s.operator for s in spec}
        assert ">=" in ops and "<" in ops, f"{name}: {spec} needs a lower and an upper bound"
    core = {canonicalize_name(Requirement(r).name) for r in
            tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert {"tensorflow", "keras"} <= core


def test_installed_versions_are_inside_the_tested_ranges() -> None:
    """The suite runs on the versions pyproject.toml claims were tested."""
    ranges = deps.tested_ranges(pyproject_requirements())
    outside = [p.summary for name in PINNED
               if (p := pin(name, installed_version(name), ranges[name])).inside is False]
    assert outside == []


def test_ranges_of_one_name_intersect_and_unpinned_names_are_ignored() -> None:
    ranges = deps.tested_ranges(["tensorflow>=2.21.0,<2.22", "numpy>=1,<3", "not a requirement!",
                            'tensorflow[and-cuda]<2.22,>=2.21.0; extra == "gpu"',
                            'jax<0.11,>=0.10.2; extra == "jax"', 'jax>=0.10.3; extra == "x"'])
    assert set(ranges) == {"tensorflow", "jax"}
    assert [v for v in ("0.10.2", "0.10.3", "0.10.9", "0.11.0") if v in ranges["jax"]] == [
        "0.10.3", "0.10.9"]


@pytest.mark.parametrize(("installed", "expected", "summary"), [
    ("2.21.0", True, "2.21.0 (tested >=2.21.0,<2.22: inside)"),
    ("2.21.3", True, "2.21.3 (tested >=2.21.0,<2.22: inside)"),
    ("2.22.0", False, "2.22.0 (tested >=2.21.0,<2.22: OUTSIDE: untested, see "
                      "docs/development.md)"),
    ("2.22.0rc1", False, None),
    ("2.20.1", False, None),
    (None, None, "not installed (tested >=2.21.0,<2.22)"),
])
def test_pin_says_inside_or_outside(installed: str | None, expected: bool | None,
                                    summary: str | None) -> None:
    found = pin("tensorflow", installed, SpecifierSet("<2.22,>=2.21.0"))
    assert found.inside is expected
    if summary is not None:
        assert found.summary == summary


def test_an_install_without_declared_ranges_says_to_reinstall() -> None:
    assert pin("keras", "3.15.1", None) == Pin("keras", "3.15.1", "", None)
    assert "reinstall" in pin("keras", "3.15.1", None).summary

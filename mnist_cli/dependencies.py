"""The tested version ranges of the libraries mnist-cli depends on most, and whether the
installed versions are inside them (`mnist-cli env`).

The ranges are read back from this package's installed metadata (`Requires-Dist`, written
from pyproject.toml at install time), so pyproject.toml stays their one source of truth.
An editable install keeps the metadata of its install: after changing a bound, reinstall
(`make install`) before `env` shows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

DISTRIBUTION = "mnist-cli"
PINNED = ("tensorflow", "keras", "jax", "jaxlib", "optuna")
"""Bounded above in pyproject.toml: what `mnist_cli.compat` patches (Keras, TensorFlow, JAX,
jaxlib with it) and Optuna, whose studies and storage mnist-cli drives."""


@dataclass(frozen=True)
class Pin:
    """One pinned library: its installed version ("not installed"), the tested range
    ("" when this install declares none) and whether the first is inside the second."""

    name: str
    installed: str
    tested: str
    inside: bool | None
    """None: not installed, or no range declared (an install older than the pins)."""

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "summary": self.summary}

    @property
    def summary(self) -> str:
        """'2.21.0 (tested >=2.21.0,<2.22: inside)' for the env table."""
        if not self.tested:
            return f"{self.installed} (no tested range declared: reinstall mnist-cli)"
        if self.inside is None:
            return f"{self.installed} (tested {self.tested})"
        verdict = "inside" if self.inside else "OUTSIDE: untested, see docs/development.md"
        return f"{self.installed} (tested {self.tested}: {verdict})"


def tested_ranges(requirements: list[str]) -> dict[str, SpecifierSet]:
    """Each pinned name's range from `Requires-Dist` lines, extras included (`jax` is in the
    `jax` and `gpu` extras): the ranges of one name are intersected."""
    ranges: dict[str, SpecifierSet] = {}
    for line in requirements:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        name = canonicalize_name(req.name)
        if name in PINNED and str(req.specifier):
            ranges[name] = ranges.get(name, SpecifierSet()) & req.specifier
    return ranges


def pin(name: str, installed: str | None, tested: SpecifierSet | None) -> Pin:
    """Compare one installed version (None: not installed) with its tested range."""
    shown = installed or "not installed"
    if tested is None:
        return Pin(name, shown, "", None)
    inside: bool | None = None
    if installed is not None:
        try:
            inside = tested.contains(Version(installed), prereleases=True)
        except InvalidVersion:
            inside = False
    return Pin(name, shown, readable(tested), inside)


def readable(spec: SpecifierSet) -> str:
    """'>=2.21.0,<2.22': lower bounds first (packaging sorts them the other way)."""
    specs = dict.fromkeys(str(s) for s in spec)  # `a & a` keeps both copies
    return ",".join(sorted(specs, key=lambda s: (not s.startswith(">"), s)))


def installed_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def pins() -> list[Pin]:
    """Every pinned library as installed here, against this install's declared ranges."""
    try:
        declared = requires(DISTRIBUTION) or []
    except PackageNotFoundError:  # run from a source tree that was never installed
        declared = []
    ranges = tested_ranges(declared)
    return [pin(name, installed_version(name), ranges.get(name)) for name in PINNED]

"""How a moved library internal is reported: an error under tests, one warning line for users.

Every patch in `mnist_cli.compat` checks its internal before touching it. A missing or
changed one never degrades silently (a JAX run importing TensorFlow, float64 checks computing
in float32): `broken` names the internal and the installed version. With
`MNIST_CLI_STRICT_COMPAT=1` (tests/conftest.py sets it, so the suite and every process it
starts fail) it raises `CompatError`; otherwise it prints one warning line per internal on
stderr and the caller goes on without the patch (slower or less checked, still correct).
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version

from mnist_cli.errors import MnistCliError

STRICT_ENV = "MNIST_CLI_STRICT_COMPAT"
CHECKED = {"keras": "3.15.1", "tensorflow": "2.21.0", "jax": "0.10.2", "python": "3.10-3.13"}
"""The versions every patch here was checked against (docs/development.md: raising a bound)."""
_warned: set[str] = set()


class CompatError(MnistCliError):
    """A library internal mnist-cli relies on is missing or changed (strict mode)."""


def strict() -> bool:
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


def installed(package: str) -> str:
    """'keras 3.15.1' (the running Python for 'python'), for messages."""
    if package == "python":
        return f"Python {sys.version.split()[0]}"
    try:
        return f"{package} {version(package)}"
    except PackageNotFoundError:
        return f"{package} (version unknown)"


def broken(internal: str, package: str, problem: str, consequence: str) -> None:
    """Report that `internal` of `package` is missing or changed: raise CompatError in strict
    mode, else warn once per internal on stderr (the caller then skips its patch)."""
    message = (f"{installed(package)}: {internal} {problem} (mnist-cli was checked against "
               f"{package} {CHECKED.get(package, '?')}); {consequence}. "
               "`mnist-cli env` shows the tested versions")
    if strict():
        raise CompatError(message)
    if internal not in _warned:
        _warned.add(internal)
        sys.stderr.write(f"mnist-cli: warning: {message}\n")
        sys.stderr.flush()

"""The version, read once from the installed package's metadata (set only in pyproject.toml).

Its own module so that the core can import it without importing the package root, which
loads the Python API on first use.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mnist-cli")
except PackageNotFoundError:  # a bare source tree that was never installed
    __version__ = "0+unknown"

"""Lazy, quiet TensorFlow import.

TensorFlow costs ~4 s and ~640 MB to import, so nothing imports it at module level; every
caller goes through `import_tf()`, which first silences the C++ start-up chatter (the oneDNN
notice needs TF_ENABLE_ONEDNN_OPTS's message suppressed via the log level *before* import).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

_VERBOSE = False


def set_verbose(verbose: bool) -> None:
    """Show TensorFlow's own logs (call before the first `import_tf`)."""
    global _VERBOSE
    _VERBOSE = verbose


def quiet_environment() -> None:
    """Environment variables that must be set before TensorFlow's first import."""
    if _VERBOSE:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextlib.contextmanager
def _stderr_captured() -> Iterator[None]:
    """Hide fd 2 during import (C++ notices ignore TF_CPP_MIN_LOG_LEVEL); replay it on failure."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tf() -> Any:
    """`import tensorflow`, quietly; returns the module."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    quiet_environment()
    if _VERBOSE:
        import tensorflow as tf
    else:
        with _stderr_captured():
            import tensorflow as tf

    if not _VERBOSE:
        tf.get_logger().setLevel("ERROR")
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    return tf


def import_keras() -> Any:
    """`import keras` after `import_tf` so its environment is quiet too."""
    import_tf()
    import keras

    return keras

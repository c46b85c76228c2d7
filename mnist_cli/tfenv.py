"""Lazy, quiet TensorFlow import.

TensorFlow costs ~4 s and ~640 MB to import, so nothing imports it at module level; every
caller goes through `import_tf()`, which first silences the C++ start-up chatter (the oneDNN
notice needs TF_ENABLE_ONEDNN_OPTS's message suppressed via the log level *before* import).
"""

from __future__ import annotations

import os
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


def import_tf() -> Any:
    """`import tensorflow`, quietly; returns the module."""
    quiet_environment()
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

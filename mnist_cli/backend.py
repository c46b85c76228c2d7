"""The Keras backend a process runs on (TensorFlow or JAX), and quiet, lazy imports of it.

Keras reads `KERAS_BACKEND` once, at its first import, and cannot switch afterwards. So the
backend is chosen by `select_backend` when a run's config is resolved, before anything
imports Keras; asking for another one once Keras runs is a one-line UsageError (in a notebook:
restart the kernel). Nothing selected means TensorFlow, as before.

TensorFlow costs ~4-6 s and ~640 MB to import, Keras on JAX ~3.5 s, so nothing imports either
at module level: callers go through `import_keras()` (the selected backend only) or
`import_tf()` (TensorFlow itself: TFDS, export, `tf.distribute`), which first silence the C++
start-up chatter (the oneDNN notice needs the log level set *before* import).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import mnist_cli.compat as compat
import mnist_cli.startup as startup
from mnist_cli.errors import UsageError
from mnist_cli.runs.timings import phase

BACKENDS = ("tensorflow", "jax")
DEFAULT = "tensorflow"
JAX_EXTRA = "pip install 'mnist-cli[jax]'"
_VERBOSE = False
_selected: str | None = None


def set_verbose(verbose: bool) -> None:
    """Show TensorFlow's own logs (call before the first `import_tf`)."""
    global _VERBOSE
    _VERBOSE = verbose


def loaded_backend() -> str | None:
    """The backend Keras already runs on in this process, None before its first import."""
    keras = sys.modules.get("keras")
    backend = getattr(getattr(keras, "backend", None), "backend", None)
    return backend() if callable(backend) else None


def select_backend(name: str, key: str = "training.backend") -> str:
    """Run Keras on `name` in this process (idempotent); a backend that is not installed, or
    Keras already running on another one, is a UsageError (exit 2) saying what to do, led by
    `key` (the config key or flag that asked)."""
    if name not in BACKENDS:
        raise UsageError(f"{key}: {name!r} is not a backend; choose one of "
                         f"{', '.join(BACKENDS)}")
    if name == "jax" and importlib.util.find_spec("jax") is None:
        raise UsageError(f"{key}: jax needs JAX, which is not installed: {JAX_EXTRA}")
    loaded = loaded_backend()
    if loaded is not None and loaded != name:
        raise UsageError(
            f"{key}: {name} asked for, but Keras already runs on {loaded} in this process and "
            "cannot switch (Keras picks its backend at its first import); run it in a new "
            f"process (in a notebook: restart the kernel before anything runs on {loaded})")
    global _selected
    _selected = name
    os.environ["KERAS_BACKEND"] = name
    return name


def current_backend() -> str:
    """The backend this process runs Keras on, or will once Keras is imported."""
    return loaded_backend() or _selected or DEFAULT


def backends_report() -> dict[str, object]:
    """`mnist-cli env`'s `backend`: the default, which backends are installed, how to pick."""
    installed = [name for name in BACKENDS if importlib.util.find_spec(name) is not None]
    return {"default": DEFAULT, "installed": installed,
            "choose_with": "training.backend (--set training.backend=jax)"}


def is_jax() -> bool:
    return current_backend() == "jax"


def quiet_environment() -> None:
    """Environment variables that must be set before TensorFlow's first import."""
    if _VERBOSE:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


@contextlib.contextmanager
def _stderr_captured() -> Iterator[None]:
    """Hide fd 2 during import (C++ notices ignore TF_CPP_MIN_LOG_LEVEL); replay it on failure,
    and mnist-cli's own warning lines (`compat`) always."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines = sink.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines
                                     if failed or line.startswith("mnist-cli: warning:")))


def import_tf() -> Any:
    """`import tensorflow`, quietly; returns the module. Under JAX only TFDS, export and
    TensorFlow-only features call this; Keras stays on the selected backend."""
    loaded = sys.modules.get("tensorflow")
    if loaded is not None:
        return loaded
    if loaded_backend() is None:
        select_backend(_selected or DEFAULT)  # TF imports Keras: fix its backend first
    quiet_environment()
    # While TensorFlow imports, `import jax` fails: tf.lite imports JAX when it is installed
    # (~0.5 s, a third of a second of a quick start) only for a JAX-to-TFLite converter that
    # mnist-cli never calls, and catches the ImportError (compat.import_hiding).
    with phase("imports"), (contextlib.nullcontext() if _VERBOSE else _stderr_captured()):
        tf = compat.import_hiding("tensorflow", ("jax",), "tensorflow")

    if not _VERBOSE:
        tf.get_logger().setLevel("ERROR")
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    return tf


def import_keras() -> Any:
    """`import keras` on the selected backend (TensorFlow: after a quiet `import_tf`)."""
    if "keras" not in sys.modules:
        name = select_backend(_selected or DEFAULT)
        if name == "tensorflow":
            import_tf()
        with phase("imports"):
            compat.import_hiding("keras", startup.deferred(name), "keras")
        if name == "jax":
            startup.prefetch()
            cache_compilations()
    import keras

    return keras


def jax_cache_dir() -> str:
    """Where compiled XLA programs are kept between runs: JAX_COMPILATION_CACHE_DIR if set
    (empty turns the cache off), else ~/.cache/mnist-cli/jax (XDG_CACHE_HOME honoured)."""
    if "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return os.environ["JAX_COMPILATION_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mnist-cli", "jax")


def cache_compilations() -> None:
    """JAX's persistent compilation cache, for every program: compiling is most of a short
    JAX run (the training loop, the initializers), and a second run of the same model and
    data shapes then loads it instead (keyed by program, jax version and device)."""
    import jax

    where = jax_cache_dir()
    jax.config.update("jax_compilation_cache_dir", where or None)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


@contextlib.contextmanager
def tensorflow_hidden_from_keras() -> Iterator[None]:
    """Keras on JAX still asks `tf.available` (which imports TensorFlow, ~5 s) when it saves
    a model or seeds the generators. While TensorFlow is not imported here, no object can be
    a TensorFlow one, so its answer is "no" for the duration (`compat.tensorflow_unavailable`)."""
    if not is_jax() or "tensorflow" in sys.modules:
        yield
        return
    with compat.tensorflow_unavailable():
        yield


@contextlib.contextmanager
def run_once_programs() -> Iterator[None]:
    """Around code whose XLA programs each run once (a model's initializers): on JAX, compile
    them with most optimizations off. Each initializer's shape is its own program, and XLA
    spends ~0.2 s optimizing a uniform draw it then runs once (measured on mlp_relu, cold
    compile cache: build 1.2 s -> 0.5 s). The same integer PRNG draws the same bits; the
    flag is not part of JAX's in-memory jit key (compiled programs made under it are reused),
    but it is part of the persistent cache's, and it is restored before training compiles."""
    if not is_jax():
        yield
        return
    jax = import_jax()
    saved = compat.config_value(jax.config, "jax_disable_most_optimizations")
    if saved is None:  # reported: build with the usual optimizations
        yield
        return
    jax.config.update("jax_disable_most_optimizations", True)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", saved)


def import_jax() -> Any:
    """`import jax`, through `import_keras` (Keras on JAX imports it): the import counts in
    the run's `imports` time and the compilation cache is set up."""
    import_keras()
    import jax

    return jax

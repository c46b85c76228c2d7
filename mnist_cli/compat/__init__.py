"""Every use of a library's internals, in one place.

Each function says what it patches, why, and the versions it was checked against, and
checks the internal before relying on it: a missing or changed one is reported naming it and
the installed version (`report.broken`: an error under tests, one warning line for users),
never skipped silently. `keras_internals`: Keras's lazy TensorFlow module and its float64
promotion table; `jax_internals`: reading a JAX config flag; `process`: modules hidden during
an import, the `__main__` spawned workers re-import, ending a process early, a process
pool's workers.
"""

from mnist_cli.compat.jax_internals import config_value
from mnist_cli.compat.keras_internals import float64_promoted, tensorflow_unavailable
from mnist_cli.compat.process import (
    bare_main_module,
    exit_now,
    import_hiding,
    pool_processes,
    run_exit_handlers,
)
from mnist_cli.compat.report import CompatError, broken, strict

__all__ = ["CompatError", "bare_main_module", "broken", "config_value", "exit_now",
           "float64_promoted", "import_hiding", "pool_processes", "run_exit_handlers", "strict",
           "tensorflow_unavailable"]

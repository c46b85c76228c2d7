"""Former home of the lazy TensorFlow/Keras imports, now `mnist_cli.backend` (which also
picks the Keras backend). Kept so modules not yet moved over keep importing from here."""

from mnist_cli.backend import import_keras, import_tf, is_jax, quiet_environment, set_verbose

__all__ = ["import_keras", "import_tf", "is_jax", "quiet_environment", "set_verbose"]

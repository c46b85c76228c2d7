"""mnist-cli: train, compare and sanity-check small Keras classifiers on MNIST-style data."""

__version__ = "0.1.0"

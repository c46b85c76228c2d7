"""The Typer layer: parse flags, call the core, print results. No TensorFlow at import time."""

"""One module per strategy, each listed once in `mnist_cli.distribute.registry`."""

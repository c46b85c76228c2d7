"""`python -m mnist_cli` == `mnist-cli`."""

from mnist_cli.cli.app import main

main()

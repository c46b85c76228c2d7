"""Run `mnist-cli ARGS...` with N logical CPU devices (N = first argument).

Logical devices must be configured before TensorFlow initialises, hence a fresh process.
"""

from __future__ import annotations

import sys

from mnist_cli.backend import import_tf


def main() -> None:
    count, args = int(sys.argv[1]), sys.argv[2:]
    tf = import_tf()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    from mnist_cli.cli.app import app

    app(args, prog_name="mnist-cli")


if __name__ == "__main__":
    main()

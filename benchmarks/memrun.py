"""Child process for the peak-memory measurement: the cnn config via `run_training` on N images.

Run: python benchmarks/memrun.py N EPOCHS  (the parent reads this process's max RSS).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from contenders import config_for, dataset_from  # noqa: E402
from extras import tiled  # noqa: E402


def main() -> None:
    n, epochs = int(sys.argv[1]), int(sys.argv[2])
    x, y = tiled(n)
    data = dataset_from((x, y.astype("int64"), x[-2000:], y[-2000:].astype("int64")))
    from mnist_cli.training import run_training

    with tempfile.TemporaryDirectory() as tmp:
        res = run_training(config_for("cnn", epochs, 0), Path(tmp) / "run", dataset=data)
    print(f"samples/s {res.metrics['samples_per_second']:.0f}, "
          f"test accuracy {res.metrics['test_accuracy']:.4f}")
    print(f"VmHWM_KB {vm_hwm_kb()}")


def vm_hwm_kb() -> int:
    """This process's own peak RSS. ru_maxrss is not used for it: Linux seeds a child's
    ru_maxrss with the parent's RSS at exec, and the parent here already holds TensorFlow."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


if __name__ == "__main__":
    main()

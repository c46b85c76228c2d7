"""Time the default gradcheck of mlp_relu and cnn on a real-size (28x28) batch.

Uses ../shared/data/mnist's gz IDX test set when present, else digits upsampled to 28x28.
Reports the total and the directional check's share (the sampled entries are the rest).
Run: .venv/bin/python benchmarks/bench_gradcheck.py [--backend jax] [--batch N] [--epsilon E]
[--directions K] (one backend per process: run it once per backend to compare).
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import numpy as np

MNIST = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"


def read_idx(path: Path) -> np.ndarray:
    """A gz IDX file -> numpy array (big-endian header: magic, then one uint32 per dim)."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", count=ndim, offset=4)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_batch(n: int, mnist: Path = MNIST) -> tuple[np.ndarray, np.ndarray, str]:
    images, labels = mnist / "t10k-images-idx3-ubyte.gz", mnist / "t10k-labels-idx1-ubyte.gz"
    if images.exists() and labels.exists():
        x, y = read_idx(images)[:n], read_idx(labels)[:n]
        return x[..., None].astype(np.float64) / 255.0, y.astype(np.int64), "mnist t10k"
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.kron(d.images[:n] / 16.0, np.ones((4, 4)))[:, 2:30, 2:30]  # 32x32 -> 28x28
    x = np.pad(x, ((0, 0), (0, 28 - x.shape[1]), (0, 28 - x.shape[2])))
    return x[..., None], d.target[:n].astype(np.int64), "digits upsampled to 28x28"


def main() -> None:
    from mnist_cli.config import Overrides, resolve_config
    from mnist_cli.gradients import numeric

    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=numeric.DEFAULT_BATCH)
    parser.add_argument("--epsilon", type=float, default=numeric.DEFAULT_EPSILON)
    parser.add_argument("--params", type=int, default=numeric.DEFAULT_PARAMS)
    parser.add_argument("--directions", type=int, default=numeric.DEFAULT_DIRECTIONS)
    parser.add_argument("--mnist", type=Path, default=MNIST, help="dir with t10k IDX gz files")
    parser.add_argument("--backend", default="tensorflow", choices=("tensorflow", "jax"))
    args = parser.parse_args()
    x, y, source = load_batch(args.batch, args.mnist)
    print(f"backend {args.backend}, data: {source}, batch {len(x)}, epsilon {args.epsilon}, "
          f"params {args.params}, directions {args.directions}")
    for name in ("mlp_relu", "cnn"):
        cfg = resolve_config(f"configs/{name}.yaml", Overrides(backend=args.backend))
        t0 = time.perf_counter()
        result = numeric.run_gradcheck(cfg.model, x, y, params=args.params,
                                       epsilon=args.epsilon, name=name,
                                       directions=args.directions)
        wall = time.perf_counter() - t0
        share = result.directional_seconds
        dropped = sum(d.dropped_samples for d in result.directional)
        print(f"{name}: {wall:.1f}s (directional {share:.1f}s = {share / wall:.0%})  "
              f"overall rel diff {result.overall_rel_diff:.2e}  kinks {result.total_kinks}  "
              f"dropped samples {dropped}  directional {result.directional_verdict}  "
              f"verdict {result.verdict}")


if __name__ == "__main__":
    main()

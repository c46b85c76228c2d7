"""The seed notebook's experiment through the Python API: the same 25-15-10 MLP with softmax
hidden layers vs ReLU hidden layers, trained on the same data split with the same seed, then
compared with McNemar's test on their predictions for the same test digits.

    python examples/softmax_vs_relu.py                     # MNIST if cached, else digits
    python examples/softmax_vs_relu.py --data digits --epochs 3
"""

from __future__ import annotations

import argparse

from mnist_cli import compare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="auto", help="data source, as `mnist-cli --data`")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", default=None, help="compare directory (default runs/)")
    args = parser.parse_args()

    # Trains both variants (each into its own run directory) and compares them.
    result = compare(activation=["softmax", "relu"], data=args.data, epochs=args.epochs,
                     seed=args.seed, run_dir=args.run_dir)
    for name in ("softmax", "relu"):
        run = result.run(name)
        print(f"{name:8} test accuracy {run.metrics['test_accuracy']:.4f}  ({run.run_dir})")
    print(f"winner: {result.winner}")
    for line in result.sentences:  # which test, then the pair's verdict
        print(line)


if __name__ == "__main__":
    main()

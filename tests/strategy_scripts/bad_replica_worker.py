"""One worker of a two-worker cluster (TF_CONFIG from the caller) training digits in which one
image, in worker 1's replica's rows of step STEP, holds an inf pixel: only that replica's
gradient is non-finite. Writes what happened to OUT/worker{index}.json for
tests/test_strategy.py.

Usage: python tests/strategy_scripts/bad_replica_worker.py OUT STEP
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from tests.helpers import fit_until_divergence, poisoned_digits

OUT, STEP = Path(sys.argv[1]), int(sys.argv[2])
SEED, BATCH = 1, 32  # per replica: global batch 64




def main() -> None:
    from mnist_cli.config import Overrides, resolve_config
    from mnist_cli.distribute import StrategyConfig, make_strategy

    strategy, desc = make_strategy(StrategyConfig(name="multi-worker", connect_timeout=60))
    cfg = resolve_config("mlp_relu", Overrides(seed=SEED, batch_size=BATCH, epochs=1))
    data = poisoned_digits(SEED, (STEP - 1) * 2 * BATCH + BATCH + 3)
    model, message = fit_until_divergence(cfg, data, strategy, 2 * BATCH)
    index = desc.task.index if desc.task else 0
    (OUT / f"worker{index}.json").write_text(json.dumps({
        "message": message, "iterations": int(np.asarray(model.optimizer.iterations)),
        "finite": all(bool(np.isfinite(w).all()) for w in model.get_weights())}))


if __name__ == "__main__":
    main()

"""TensorBoard's cost on training: `make bench`'s row, or alone (`python tensorboard_cost.py`).

Two measures on the MLP contender (c) (the worst case: ~0.1 s epochs, so per-epoch work is
the largest share): (1) the seconds spent inside the TensorBoard callback's own hooks (writer
creation, scalar writes, flushes) over the fit seconds, exact; (2) fit seconds with
TensorBoard on vs `training.tensorboard=false`, interleaved, medians (subject to the
machine's +-6% noise, so (1) is the number the 3% target is checked against).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contenders as C  # noqa: E402

HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_end", "write_test")


def timed_boards(spent: list[float]) -> Any:
    """`board_callbacks` whose hooks add their wall seconds to `spent`."""
    from mnist_cli.tracking import tensorboard

    original = tensorboard.board_callbacks

    def wrap(fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - start)
        return timed

    def boards(*args: Any, **kwargs: Any) -> list[Any]:
        made = original(*args, **kwargs)
        for board in made:
            for hook in HOOKS:
                setattr(board, hook, wrap(getattr(board, hook)))
        return made

    return boards


def one_run(seed: int, epochs: int, on: bool) -> dict[str, float]:
    """One (c) MLP run; with `on`, also the seconds inside the callback's hooks."""
    from mnist_cli.tracking import tensorboard

    spent: list[float] = []
    original = tensorboard.board_callbacks  # the pipeline imports it at each run
    tensorboard.board_callbacks = timed_boards(spent)
    try:
        sets = [] if on else ["training.tensorboard=false"]
        res = C.mnist_cli_api("mlp", epochs, seed, sets)
    finally:
        tensorboard.board_callbacks = original
    return {"fit_seconds": res["fit_seconds"], "hook_seconds": sum(spent)}


def tensorboard_cost(repeats: int, epochs: int = 10) -> dict[str, Any]:
    """Hook share of fit time (with TensorBoard on) and the on/off fit-time ratio."""
    C.warm_up()
    on, off = [], []
    for r in range(repeats):
        pair = [(True, on), (False, off)]
        for flag, sink in pair if r % 2 == 0 else pair[::-1]:
            sink.append(one_run(r, epochs, flag))
    fit_on = statistics.median(x["fit_seconds"] for x in on)
    fit_off = statistics.median(x["fit_seconds"] for x in off)
    share = statistics.median(x["hook_seconds"] / x["fit_seconds"] for x in on)
    return {"epochs": epochs, "repeats": repeats, "hook_share_of_fit": share,
            "hook_seconds": statistics.median(x["hook_seconds"] for x in on),
            "fit_seconds_on": fit_on, "fit_seconds_off": fit_off, "ratio_on_off": fit_on / fit_off}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--epochs", type=int, default=10)
    args = p.parse_args()
    print(json.dumps(tensorboard_cost(args.repeats, args.epochs), indent=2))

"""Directional derivatives: a check that involves every entry of every variable.

For k seeded random unit directions v, autodiff's g·v is compared with the float64 central
difference (L(θ+εv) - L(θ-εv)) / 2ε, once with v spanning the whole model and once per
variable (so small variables are not drowned by big ones). A wrong gradient entry e shifts
g·v by e·v for every v, so any single wrong entry shows up unless its error is tiny against
||g|| (sampled entries, by contrast, miss an entry they do not draw).

Kinks: a perturbation along v moves every unit a little, so some unit of some sample may
straddle a ReLU / max-pool kink. The loss is a mean over samples and units belong to one
sample, so the straddling samples are found (the same piece codes as `kinks`) and dropped
from both sides: the finite difference sums the kept samples' losses, and autodiff's side is
the backend's autodiff gradient of that same partial sum (one batched pass, like the main one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import mnist_cli.gradients.kinks as kk
from mnist_cli.backend import import_keras
from mnist_cli.gradients.autodiff import compiled, to_tensor, value_and_grad
from mnist_cli.gradients.clone import (
    Clone,
    forward,
    mean_loss,
    per_sample_loss,
    trainable_weights,
)
from mnist_cli.gradients.report import DirectionCheck, direction_row

DEFAULT_DIRECTIONS = 16
"""Random directions per group (whole model, each variable)."""


def unit_directions(size: int, count: int, seed: int, group: int) -> np.ndarray:
    """(count, size) random unit vectors, seeded by (seed, group)."""
    rng = np.random.default_rng([seed, 7919, group])
    v = rng.standard_normal((count, size))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@dataclass
class Problem:
    """What the directional check evaluates: the clone, the batch and autodiff's gradient."""

    clone: Clone
    x: Any
    y: Any
    from_logits: bool
    grads: list[np.ndarray]
    """Autodiff gradient of the mean loss per trainable variable (the one under test)."""
    hook: Callable[[list[np.ndarray]], list[np.ndarray]] | None = None
    """Applied to every autodiff gradient computed here, as to `grads` (tests plant bugs)."""


def _pair_fn(problem: Problem) -> Any:
    """Compiled: (weights at θ+εv, weights at θ-εv, x, y) -> per-sample losses of each, and
    per sample how many units changed piece between the two."""
    ops = import_keras().ops
    stages, from_logits = problem.clone.stages, problem.from_logits

    def losses(weights: list, x: Any, y: Any) -> tuple[Any, list]:
        probes: list = []
        out = forward(stages, x, probes=probes, weights=weights)
        return per_sample_loss(y, out, from_logits), probes

    def pair(plus: list, minus: list, x: Any, y: Any) -> tuple[Any, Any, Any]:
        lp, pp = losses(plus, x, y)
        lm, pm = losses(minus, x, y)
        changes = [kk.sample_changes(a, b) for a, b in zip(pp, pm, strict=True)]
        return lp, lm, kk.add_all(changes) if changes else ops.zeros_like(lp, "int64")

    program = compiled(pair)
    return lambda plus, minus: program(plus, minus, problem.x, problem.y)


def _masked_grad_fn(problem: Problem) -> Any:
    """Dropped samples -> autodiff gradient (flattened) of the mean loss with their terms
    left out: (1/N) sum over kept i of L_i, one batched pass like the main one, then
    `problem.hook` like the main gradient."""
    stages = problem.clone.stages
    weights = trainable_weights(stages)
    n = int(problem.x.shape[0])
    cache: dict[tuple[int, ...], np.ndarray] = {}

    def masked(weights: list, keep: Any, x: Any, y: Any) -> list:
        return value_and_grad(mean_loss(stages, x, y, problem.from_logits, keep), weights)[1]

    grad = compiled(masked)

    def of(dropped: tuple[int, ...]) -> np.ndarray:
        if dropped not in cache:
            keep = np.ones(n)
            keep[list(dropped)] = 0.0
            grads = [np.asarray(g, np.float64)
                     for g in grad(weights, to_tensor(keep), problem.x, problem.y)]
            if problem.hook is not None:
                grads = [np.asarray(g, np.float64) for g in problem.hook(grads)]
            cache[dropped] = np.concatenate([g.ravel() for g in grads])
        return cache[dropped]

    return of


def _one_direction(problem: Problem, pair: Any, masked_grad: Any, base: list[np.ndarray],
                   which: list[int], v: np.ndarray, epsilon: float) -> tuple[float, float, int]:
    """(finite difference, autodiff) of the loss along v (spread over variables `which`), both
    over the samples that straddle no kink; and how many samples were dropped."""
    plus, minus, step = list(base), list(base), np.zeros(sum(b.size for b in base))
    offsets = np.cumsum([0] + [b.size for b in base])
    start = 0
    for j in which:
        part = v[start:start + base[j].size].reshape(base[j].shape)
        start += base[j].size
        plus[j], minus[j] = base[j] + epsilon * part, base[j] - epsilon * part
        step[offsets[j]:offsets[j + 1]] = ((plus[j] - minus[j]) / (2 * epsilon)).ravel()
    lp, lm, changes = (np.asarray(t) for t in pair([to_tensor(w) for w in plus],
                                                   [to_tensor(w) for w in minus]))
    clean, dropped = changes == 0, tuple(int(i) for i in np.flatnonzero(changes))
    fd = float(np.sum(lp[clean] - lm[clean]) / len(lp) / (2 * epsilon))
    g = np.concatenate([gr.ravel() for gr in problem.grads]) if not dropped else \
        masked_grad(dropped)
    return fd, float(g @ step), len(dropped)


def check_directions(problem: Problem, *, count: int, epsilon: float, seed: int,
                     floor: float, names: list[str]) -> list[DirectionCheck]:
    """One row for the whole model, then one per variable, each over `count` directions."""
    base = [np.asarray(v, np.float64) for v in problem.clone.model.trainable_variables]
    pair, masked_grad = _pair_fn(problem), _masked_grad_fn(problem)
    n = int(problem.x.shape[0])
    groups = [("all variables", list(range(len(base))))]
    groups += [(name, [j]) for j, name in enumerate(names)]
    rows = []
    for gi, (name, which) in enumerate(groups):
        size = sum(base[j].size for j in which)
        fds, ads, dropped = [], [], []
        for v in unit_directions(size, count, seed, gi):
            fd, ad, d = _one_direction(problem, pair, masked_grad, base, which, v, epsilon)
            fds.append(fd)
            ads.append(ad)
            dropped.append(d)
        rows.append(direction_row(name, size, np.array(fds), np.array(ads),
                                  np.array(dropped), n, floor))
    return rows

"""Flags -> the list of variants to compare, each a fully resolved RunConfig.

No TensorFlow here: a bad variant must be reported before anything is trained.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from mnist_cli.config import Overrides, RunConfig, resolve_config
from mnist_cli.errors import UsageError

# The seed notebook's experiment: the same 25-15-10 MLP with softmax vs ReLU hidden layers.
SEED_ACTIVATIONS = ("softmax", "relu")


@dataclass
class Variant:
    """One arm of the comparison: its name (named by what differs, e.g. 'softmax'), the config
    every seed of it trains (named the same, so a sub-run's config.yaml, its directory and the
    table agree), and `base`, the config it was built from ('mlp_relu')."""

    name: str
    config: RunConfig
    base: str = ""


def _name(parts: list[str], fallback: str) -> str:
    """Join only the dimensions that actually vary, so names stay short ('relu', not ...)."""
    return "-".join(parts) if parts else fallback


def _unique(names: list[str]) -> list[str]:
    """Suffix repeats (two configs with the same name) so every sub-run dir is distinct."""
    seen: dict[str, int] = {}
    result = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return result


def build_variants(
    configs: list[str] | None = None,
    activations: list[str] | None = None,
    outputs: list[str] | None = None,
    overrides: Overrides | None = None,
) -> list[Variant]:
    """Cross configs x activations x outputs; with neither configs nor activations given,
    the seed's softmax-vs-ReLU experiment on the default config."""
    configs = list(configs or [])
    activations = list(activations or [])
    outputs = list(outputs or [])
    if not configs and not activations:
        activations = list(SEED_ACTIVATIONS)
    base = overrides or Overrides()
    named: list[tuple[str, RunConfig]] = []
    for config, act, out in itertools.product(configs or [None], activations or [None],
                                              outputs or [None]):
        cfg = resolve_config(config, replace(base, activation=act, output=out))
        parts = [cfg.name] if len(configs) > 1 else []
        parts += [act] if act and (len(activations) > 1 or not configs) else []
        parts += [out] if out and len(outputs) > 1 else []
        named.append((_name(parts, cfg.name), cfg))
    names = _unique([n for n, _ in named])
    variants = [Variant(n, replace(cfg, name=n), cfg.name)
                for n, (_, cfg) in zip(names, named, strict=True)]
    check_variants(variants)
    return variants


def check_variants(variants: list[Variant]) -> None:
    """At least two arms, all reading the same data (it is loaded once and shared)."""
    if len(variants) < 2:
        raise UsageError(
            "compare needs at least two variants; repeat --config, --activation or --output, "
            "e.g. `--activation relu --activation tanh`"
        )
    first = variants[0]
    for v in variants[1:]:
        if v.config.data != first.config.data:
            raise UsageError(
                f"variants {first.name!r} and {v.name!r} read different data "
                f"({first.config.data} vs {v.config.data}); compare trains every variant on "
                "the same data, so pass --data (and --validation-split) to set it for all"
            )


def plan_seeds(seed: int | None, repeats: int) -> list[int]:
    """The N seeds every variant trains with: the given (or a fresh random) seed, then +1..."""
    if repeats < 1:
        raise UsageError(f"--repeats must be >= 1, got {repeats}")
    from mnist_cli.training.seeding import resolve_seed

    base = resolve_seed(seed)
    return [base + i for i in range(repeats)]

"""`mnist-cli compare`: train several variants on the same data and compare them honestly."""

from mnist_cli.comparison.run import run_comparison
from mnist_cli.comparison.types import ComparisonRuns, RunOutcome
from mnist_cli.comparison.variants import Variant, build_variants, plan_seeds

__all__ = [
    "ComparisonRuns",
    "RunOutcome",
    "Variant",
    "build_variants",
    "plan_seeds",
    "run_comparison",
]

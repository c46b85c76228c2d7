"""`mnist-cli gradcheck`: autodiff gradients vs float64 finite differences.

Importing this package imports no backend; the check functions import the selected one
(TensorFlow or JAX, see `autodiff`), lazily.
"""

from mnist_cli.gradients.logistic import run_logistic_gradcheck
from mnist_cli.gradients.numeric import (
    DEFAULT_BATCH,
    DEFAULT_DIRECTIONS,
    DEFAULT_EPSILON,
    DEFAULT_PARAMS,
    check_model,
    run_gradcheck,
    sample_entries,
)
from mnist_cli.gradients.render import render
from mnist_cli.gradients.report import (
    DirectionCheck,
    GradcheckResult,
    VariableCheck,
    verdict_for,
)

__all__ = [
    "DEFAULT_BATCH",
    "DEFAULT_EPSILON",
    "DEFAULT_DIRECTIONS",
    "DEFAULT_PARAMS",
    "DirectionCheck",
    "GradcheckResult",
    "VariableCheck",
    "check_model",
    "render",
    "run_gradcheck",
    "run_logistic_gradcheck",
    "sample_entries",
    "verdict_for",
]

"""Typed run configuration: what a YAML file and the flags resolve to.

Each field's docstring is the user-facing documentation: `mnist-cli config show --explain`
prints it beside the key (read from this file by `mnist_cli.config.docs`), and the key table
of docs/configuration.md is generated from them. The loss is not a key: it follows
`model.output`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

OutputForm = Literal["logits", "probabilities"]


@dataclass
class LayerSpec:
    """One `keras.layers` class and the keyword arguments to build it with."""

    class_name: str
    """Name of a class in `keras.layers`, e.g. `Dense` or `Conv2D` (`Lambda` is refused)."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments passed to the layer's constructor."""

    def to_yaml(self) -> dict[str, Any]:
        return {self.class_name: dict(self.kwargs)}


@dataclass
class ModelConfig:
    """The `keras.Sequential` stack; the input layer comes from the data's shape."""

    layers: list[LayerSpec] = field(default_factory=list)
    """Layers in order; the last one produces one value per class."""
    output: OutputForm = "logits"
    """`logits` (loss with from_logits=True) or `probabilities` (softmax on the last layer);
    the loss is always sparse categorical cross-entropy on integer labels."""


@dataclass
class TrainingConfig:
    """How to fit the model."""

    optimizer: str = "adam"
    """Keras optimizer name: adam, adamw, sgd, rmsprop, adagrad, nadam."""
    learning_rate: float = 0.001
    """Optimizer step size; must be > 0."""
    epochs: int = 10
    """Passes over the training data; must be >= 1."""
    batch_size: int = 128
    """Batch size per replica; the global batch is this times the replica count."""
    seed: int | None = None
    """Random seed for splits, shuffling and weights; chosen and recorded when not given."""
    early_stopping_patience: int = 0
    """Stop after this many epochs without val_loss improvement and keep the best epoch's
    weights (0 turns it off; needs data.validation_split > 0)."""
    deterministic: bool = True
    """Ask TensorFlow for deterministic ops so the same seed gives the same weights."""
    steps_per_execution: int = 1
    """Retired with `engine: fit` (the engine sizes its own graph calls); accepted, and
    ignored, so that run directories of earlier versions still load."""
    engine: str = "fused"
    """The one training engine: many steps per graph call on in-memory tensors, under every
    strategy (`fit`, Keras `model.fit`, was removed: it lacked the engine's guarantees)."""
    backend: Literal["tensorflow", "jax"] = "tensorflow"
    """Keras backend: `tensorflow`, or `jax` (`pip install 'mnist-cli[jax]'`; the fused engine
    on one device or data parallel over local devices; no TensorFlow import for CSV, IDX, npz
    or the bundled digits). Chosen before Keras loads: one backend per process."""
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16"] = "float32"
    """Keras dtype policy: float32, or mixed_float16 (with loss scaling) / mixed_bfloat16,
    which compute in 16 bits on GPUs/TPUs; the output layer stays float32 (slow on CPU)."""
    tensorboard: bool = True
    """Write TensorBoard event files (per-epoch scalars, test metrics, config) under
    RUN_DIR/tensorboard/."""


@dataclass
class DataConfig:
    """Where the digits come from and how they are prepared."""

    spec: str = "auto"
    """auto, digits, mnist, fashion_mnist, tfds:NAME, or a path to .csv, .npz or IDX data."""
    test_spec: str | None = None
    """Separate test data (same forms as `spec`); by default the source's own test split."""
    validation_split: float = 0.1
    """Fraction of the training data held out for validation, in [0, 1)."""
    image_shape: list[int] | None = None
    """Image height and width (e.g. [28, 28]); inferred from square pixel counts if unset."""
    data_dir: str | None = None
    """TensorFlow Datasets data directory (default: TFDS's own)."""
    scale: bool = True
    """Scale pixels from 0-255 to [0, 1]."""
    label_column: str = "auto"
    """CSV label column: auto (a column named label/digit/..., else first or last, decided
    from the values, refusing when both could be labels), first, last, or a header name."""
    pixel_max: int | None = None
    """The pixel value that means white in CSV/npz/IDX files (e.g. 255, 16, 1); null detects
    it: whole numbers up to 255 -> 255, up to 16 -> 16, 0/1 -> 1, fractions in [0, 1] -> 1,
    each non-255 choice announced with a note."""
    split_seed: int | None = None
    """Seed of the train/test split and the validation hold-out; null: training.seed. Every
    run records the seed it split with, so `evaluate` and `--resume` rebuild the same split
    (a `compare` run splits once, with its first seed, for every variant and seed)."""
    class_names: list[str] | str | None = None
    """Names for labels 0, 1, ... shown instead of the numbers: a list with one name per class,
    or `fashion` (Fashion-MNIST's ten names, for Fashion-MNIST read from IDX or CSV). Unset:
    the source's own names (TFDS metadata), else the numbers. A trained run records the list."""


@dataclass
class MlflowConfig:
    """Experiment tracking on an MLflow server (docs/tracking.md); `--mlflow` overrides."""

    uri: str | None = None
    """Tracking server URI (e.g. http://127.0.0.1:5000), or `env` for MLFLOW_TRACKING_URI;
    null: no tracking. No password here (use MLflow's MLFLOW_TRACKING_PASSWORD); one given
    with `--mlflow` is saved masked (***)."""
    experiment: str = "mnist-cli"
    """MLflow experiment the runs go to (created if missing)."""


@dataclass
class RunConfig:
    """Everything a run needs; saved as `config.yaml` in every run directory."""

    name: str = "model"
    """Short name used in run directory names and reports."""
    model: ModelConfig = field(default_factory=ModelConfig)
    """The network."""
    training: TrainingConfig = field(default_factory=TrainingConfig)
    """Fit settings."""
    data: DataConfig = field(default_factory=DataConfig)
    """Data source and preparation."""
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    """Experiment tracking."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["model"]["layers"] = [layer.to_yaml() for layer in self.model.layers]
        return d


SECTIONS: dict[str, type] = {
    "model": ModelConfig,
    "training": TrainingConfig,
    "data": DataConfig,
    "mlflow": MlflowConfig,
}

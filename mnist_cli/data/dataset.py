"""Sources -> the train/validation/test `Dataset` and single input sets, with descriptions."""

from __future__ import annotations

import numpy as np

import mnist_cli.data.class_names as class_names
from mnist_cli.config.schema import DataConfig, RunConfig
from mnist_cli.data.raw import RawData
from mnist_cli.data.spec import load_source
from mnist_cli.data.split import class_counts, fingerprint, hold_out, train_test
from mnist_cli.data.types import DataDescription, Dataset, Split
from mnist_cli.errors import DataError

MIN_CLASSES = 10


def load_dataset(cfg: DataConfig, seed: int) -> Dataset:
    """Train/validation/test for training; validation is None when validation_split == 0."""
    return dataset_from(_load(cfg, cfg.spec), cfg, seed)


def split_seed(cfg: RunConfig) -> int:
    """The seed a run splits its data with: data.split_seed, else training.seed."""
    if cfg.data.split_seed is not None:
        return cfg.data.split_seed
    return cfg.training.seed or 0


def load_run_dataset(cfg: RunConfig) -> Dataset:
    """The dataset of a run config, split with its split seed (see `split_seed`)."""
    return load_dataset(cfg.data, split_seed(cfg))


def _load(cfg: DataConfig, spec: str) -> RawData:
    return load_source(spec, cfg.image_shape, cfg.data_dir, label_column=cfg.label_column,
                       pixel_max=cfg.pixel_max)


def dataset_from(raw: RawData, cfg: DataConfig, seed: int) -> Dataset:
    """Split an already loaded source (and cfg.test_spec) into train/validation/test."""
    notes = list(raw.notes)
    _need_classes(raw.sets["train"] if "train" in raw.sets else raw.everything(), raw.source)
    if cfg.test_spec:
        test_raw = _load(cfg, cfg.test_spec)
        train = raw.sets["train"] if "train" in raw.sets else raw.everything()
        test = _inputs_of(test_raw, "test")
        _same_shape(raw, test_raw)
        notes += test_raw.notes + [f"test data: {test_raw.source} (sha256 {test_raw.sha256})"]
        source = f"{raw.source}; test: {test_raw.source}"
    else:
        train, test = _train_test(raw, seed)
        source = raw.source
    _need_labels(train, raw.source, "training")
    _need_labels(test, source, "testing")
    train, validation, stratified = hold_out(train, cfg.validation_split, seed)
    splits = {"train": train, "validation": validation, "test": test}
    desc = describe(source, raw.sha256, splits, notes)
    desc.stratified = stratified
    desc.split_seed = seed
    desc.fingerprints = {k: fingerprint(s) for k, s in splits.items() if s is not None}
    desc.class_names = class_names.resolve(cfg.class_names, raw.class_names, desc.num_classes)
    return Dataset(train, validation, test, desc)


def load_inputs(
    spec: str,
    *,
    image_shape: list[int] | None = None,
    data_dir: str | None = None,
    split: str = "test",
    require_labels: bool = False,
    label_column: str = "auto",
    pixel_max: int | None = None,
) -> tuple[Split, DataDescription]:
    """One set for evaluate/predict: the `split` set if the source has one, else everything."""
    raw = load_source(spec, image_shape, data_dir, label_column=label_column,
                      pixel_max=pixel_max)
    data = _inputs_of(raw, split)
    if require_labels:
        _need_labels(data, raw.source, "evaluation")
    desc = describe(raw.source, raw.sha256, {split: data}, list(raw.notes))
    desc.class_names = class_names.metadata_names(raw.class_names, desc.num_classes)
    return data, desc


def describe(
    source: str, sha256: str, splits: dict[str, Split | None], notes: list[str]
) -> DataDescription:
    present = [s for s in splits.values() if s is not None]
    labels = [int(s.y.max()) for s in present if s.y is not None and len(s)]
    return DataDescription(
        source=source,
        image_shape=tuple(int(d) for d in present[0].x.shape[1:]),  # type: ignore[arg-type]
        num_classes=max([MIN_CLASSES, *(m + 1 for m in labels)]),
        sizes={k: 0 if s is None else len(s) for k, s in splits.items()},
        class_counts={k: class_counts(s) for k, s in splits.items()},
        sha256=sha256,
        notes=notes,
    )


def _train_test(raw: RawData, seed: int) -> tuple[Split, Split]:
    if "train" in raw.sets and "test" in raw.sets:
        return raw.sets["train"], raw.sets["test"]
    data = raw.everything()
    _need_labels(data, raw.source, "training")
    return train_test(data, seed, raw.source)


def _inputs_of(raw: RawData, split: str) -> Split:
    return raw.sets[split] if split in raw.sets else raw.everything()


def _same_shape(train: RawData, test: RawData) -> None:
    a, b = train.image_shape(), test.image_shape()
    if a != b:
        raise DataError(
            f"test data {test.source} has images of shape {b[0]}x{b[1]} but training data "
            f"{train.source} has {a[0]}x{a[1]}; use test data of the same image size"
        )


def _need_labels(data: Split, source: str, purpose: str) -> None:
    if data.y is None:
        raise DataError(
            f"{source}: has no labels, but {purpose} needs them; use a labeled file "
            "(a label column first, last or named label; see --label-column) or a source "
            "with labels"
        )


def _need_classes(data: Split, source: str) -> None:
    """Training labels of one class mean a misread file far more often than a real task."""
    if data.y is None or len(data) == 0 or np.unique(data.y).size > 1:
        return
    hint = ("is the label in another column? see --label-column" if source.startswith("csv:")
            else "training needs at least two classes")
    raise DataError(f"{source}: all {len(data):,} labels are {int(data.y[0])}: {hint}")


def describe_source(cfg: DataConfig, seed: int) -> DataDescription:
    """`data info`: the training view of a labeled source; an unlabeled one described as is."""
    raw = _load(cfg, cfg.spec)
    everything = raw.everything()
    if everything.y is not None or cfg.test_spec:
        return dataset_from(raw, cfg, seed).description
    note = ("no labels: usable with `mnist-cli predict`; training and evaluation need a label "
            "column (see --label-column)")
    desc = describe(raw.source, raw.sha256, {"all": everything}, [*raw.notes, note])
    desc.num_classes = 0
    return desc

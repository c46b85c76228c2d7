"""Sources -> the train/validation/test `Dataset` and single input sets, with descriptions."""

from __future__ import annotations

from mnist_cli.config.schema import DataConfig
from mnist_cli.data import class_names
from mnist_cli.data.raw import RawData
from mnist_cli.data.spec import load_source
from mnist_cli.data.split import class_counts, hold_out, train_test
from mnist_cli.data.types import DataDescription, Dataset, Split
from mnist_cli.errors import DataError

MIN_CLASSES = 10


def load_dataset(cfg: DataConfig, seed: int) -> Dataset:
    """Train/validation/test for training; validation is None when validation_split == 0."""
    raw = load_source(cfg.spec, cfg.image_shape, cfg.data_dir)
    notes = list(raw.notes)
    if cfg.test_spec:
        test_raw = load_source(cfg.test_spec, cfg.image_shape, cfg.data_dir)
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
    desc.class_names = class_names.resolve(cfg.class_names, raw.class_names, desc.num_classes)
    return Dataset(train, validation, test, desc)


def load_inputs(
    spec: str,
    *,
    image_shape: list[int] | None = None,
    data_dir: str | None = None,
    split: str = "test",
    require_labels: bool = False,
) -> tuple[Split, DataDescription]:
    """One set for evaluate/predict: the `split` set if the source has one, else everything."""
    raw = load_source(spec, image_shape, data_dir)
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
            "(label column first) or a source with labels"
        )

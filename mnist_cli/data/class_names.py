"""Class names: where they come from, how they are checked, and how a label is shown.

Names come from `--class-names` (a list, a file, or `fashion`), the config key
`data.class_names`, or a TFDS dataset's label metadata. They are never guessed from pixels.
The resolved list is recorded as `data.class_names` in the run's config.yaml, which
evaluate and predict read back. Digits and MNIST have no names: labels show as numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_cli.errors import UsageError

FASHION = "fashion"
FASHION_MNIST = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot"]
"""Fashion-MNIST's ten classes in label order (0 = T-shirt/top ... 9 = Ankle boot)."""
FLAG = "--class-names"

ClassNames = list[str] | str | None
"""A list of names, the shorthand 'fashion', or None (no names)."""


def parse_flag(value: str | None) -> ClassNames:
    """`--class-names fashion | a,b,c | FILE` -> 'fashion', a list, or None.

    An existing file is read one name a line; anything with a comma is a list; a value that
    looks like a path but does not exist is refused rather than taken as one name.
    """
    if value is None:
        return None
    text = value.strip()
    if text.lower() == FASHION:
        return FASHION
    path = Path(text).expanduser()
    if path.is_file():
        return read_names_file(path)
    if "," not in text and (path.suffix or "/" in text):
        raise UsageError(f"{FLAG} {value}: no such file; give a file with one name a line, "
                         "a comma-separated list like a,b,c, or fashion")
    names = [n.strip() for n in text.split(",")]
    if any(not n for n in names):
        raise UsageError(f"{FLAG} {value!r}: empty name in the list; write it as a,b,c with "
                         "a name between every pair of commas")
    return names


def read_names_file(path: Path) -> list[str]:
    """One name a line; trailing blank lines are ignored, blank lines between names refused."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{FLAG} {path}: cannot read the file ({exc})") from None
    while lines and not lines[-1].strip():
        lines.pop()
    names = [line.strip() for line in lines]
    for i, name in enumerate(names, start=1):
        if not name:
            raise UsageError(f"{FLAG} {path}: line {i} is blank; write one name on every "
                             "line, in label order (line 1 is label 0)")
    if not names:
        raise UsageError(f"{FLAG} {path}: the file is empty; write one name a line")
    return names


def config_problems(value: Any) -> list[str]:
    """Problems with `data.class_names` as read from YAML (type checks already passed)."""
    key = "data.class_names"
    if value is None:
        return []
    if isinstance(value, str):
        if value.strip().lower() == FASHION:
            return []
        return [f"{key}: {value!r} is not a known shorthand; use 'fashion' or a list of "
                "names (a names file is read by --class-names FILE)"]
    if not value:
        return [f"{key}: the list is empty; give one name per class or leave it out"]
    problems = []
    if any(not str(n).strip() for n in value):
        problems.append(f"{key}: every name must be non-empty")
    dupes = sorted({n for n in value if value.count(n) > 1})
    if dupes:
        problems.append(f"{key}: duplicate names {', '.join(map(repr, dupes))}; every class "
                        "needs its own name")
    return problems


def expand(value: ClassNames) -> list[str] | None:
    """'fashion' -> Fashion-MNIST's names; a list is copied; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        if value.strip().lower() != FASHION:
            raise UsageError(f"{FLAG} {value!r}: use fashion, a,b,c or a names file")
        return list(FASHION_MNIST)
    return [str(n).strip() for n in value]


def metadata_names(names: Any, num_classes: int | None = None) -> list[str] | None:
    """A source's own label names, or None when they are just the digits '0'..'9'."""
    if not names:
        return None
    names = [str(n) for n in names]
    if names == [str(i) for i in range(len(names))]:
        return None
    if num_classes is not None and len(names) != num_classes:
        return None
    return names


def check_count(names: list[str], num_classes: int, what: str) -> None:
    """Exactly one name per class, else UsageError (exit 2) naming the flag and both counts."""
    if len(names) != num_classes:
        raise UsageError(f"{FLAG} (data.class_names): {what} has {num_classes} classes, so "
                         f"{num_classes} names are expected but {len(names)} were given "
                         f"({', '.join(names[:4])}{', ...' if len(names) > 4 else ''})")


def resolve(asked: ClassNames, metadata: list[str] | None, num_classes: int,
            what: str = "the data") -> list[str] | None:
    """The names a run uses: asked-for names (checked against the class count) win over
    the source's metadata; None when neither gives any."""
    names = expand(asked)
    if names is None:
        return metadata_names(metadata, num_classes)
    check_count(names, num_classes, what)
    return names


def label_text(label: int, names: list[str] | None) -> str:
    """How one label is shown: its name when the run has names, else the number."""
    if names is not None and 0 <= label < len(names):
        return names[label]
    return str(label)


def label_texts(count: int, names: list[str] | None) -> list[str]:
    """Axis or column labels for classes 0..count-1."""
    return [label_text(c, names) for c in range(count)]


def settle(data_cfg: Any, description: Any) -> list[str] | None:
    """Before training: resolve the run's names against the loaded data (wrong count: exit 2)
    and write them into the config (saved as config.yaml, their record) and the description."""
    names = resolve(data_cfg.class_names, description.class_names, description.num_classes)
    data_cfg.class_names = names
    description.class_names = names
    return names

"""Dotted config paths: the one way `--set`, the flags and tune search spaces name a value.

`training.learning_rate` names a key; a number indexes a list, so `model.layers.1.Dense.units`
is the `units` argument of the second layer, which must be a Dense layer. A path that names
no place (an index past the end, a layer of another class, a key under a plain value) is a
PathError saying what is there instead, never a silent rewrite of the config's shape.
"""

from __future__ import annotations

import re
from typing import Any

Container = dict[str, Any] | list[Any]


class PathError(ValueError):
    """Why a dotted path names no place in a config mapping, and what would."""


def list_index(items: list[Any], part: str, where: str) -> int:
    """`part` as an index of `items` (the list at `where`)."""
    if part.isdigit() and int(part) < len(items):
        return int(part)
    valid = f"0 to {len(items) - 1}" if items else "none: it is empty"
    raise PathError(f"{where} has {len(items)} entries, so {part!r} is not an index of it "
                    f"(indexes count from 0: {valid})")


def layer_class(item: Any) -> str | None:
    """The class name of a `model.layers` entry (`{Dense: {...}}` or `Flatten`), else None."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and len(item) == 1:
        return str(next(iter(item)))
    return None


def place(raw: dict[str, Any], dotted: str, create: bool = True) -> tuple[Container, Any]:
    """(container, key or index) that `dotted` names in `raw`. With `create`, a missing or
    null mapping on the way is made (`--set data.spec=x` on a file without `data:`) and a
    `- Flatten` shorthand layer is written out as `- Flatten: {}`; without it `raw` is not
    changed and a missing mapping is a PathError."""
    parts = dotted.split(".")
    if not all(part.strip() for part in parts):
        raise PathError(f"{dotted!r} has an empty part; write the key's dotted path, e.g. "
                        "training.epochs or model.layers.1.Dense.units")
    node: Container = raw
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth])
        if isinstance(node, list):
            key: Any = list_index(node, part, where)
        else:
            key = part
            name = layer_class(node) if parts[:2] == ["model", "layers"] else None
            if depth == 3 and name is not None and part != name:
                raise PathError(f"{where} is a {name} layer, not {part}; write "
                                f"{where}.{name}.ARGUMENT, or replace the whole layer with "
                                f"{where}={{{part}: {{...}}}}")
        if depth == len(parts) - 1:
            return node, key
        node = child(node, key, ".".join(parts[:depth + 1]), create)
    raise AssertionError("unreachable: the loop returns at the last part")


def child(node: Container, key: Any, path: str, create: bool) -> Container:
    """The mapping or list at node[key], made when missing (with `create`)."""
    value = node[key] if isinstance(node, list) or key in node else None
    if isinstance(value, str) and isinstance(node, list):  # `- Flatten`: a layer without args
        value = {value: {}}
        if create:
            node[key] = value
    if value is None:
        if not create:
            raise PathError(f"the config has no key {path}")
        value = node[key] = {}
    if not isinstance(value, dict | list):
        raise PathError(f"{path} is {value!r}, a value, not a section or list; set {path} "
                        "itself, or check the key's spelling")
    return value


def set_path(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """raw[a][b][1][c] = value for 'a.b.1.c', making missing sections (PathError when the
    path names no place)."""
    container, key = place(raw, dotted)
    container[key] = value  # type: ignore[index]


def has_path(raw: dict[str, Any], dotted: str) -> bool:
    """Whether `raw` holds a value at `dotted` (a malformed path holds none)."""
    try:
        container, key = place(raw, dotted, create=False)
    except PathError:
        return False
    return isinstance(container, list) or key in container


LAYER_HEAD = re.compile(r"\[(\d+)\]|\s\((\w+)\)")


def problem_path(problem: str) -> str:
    """The dotted path a config problem is about: 'model.layers[1] (Dense): ...' ->
    'model.layers.1.Dense', 'training.epochs: ...' -> 'training.epochs'."""
    head = problem.split(":", 1)[0]
    return LAYER_HEAD.sub(lambda m: "." + (m.group(1) or m.group(2)), head)


def caused_by(problem: str, key: str, base: dict[str, Any]) -> bool:
    """Whether setting `key` (by `--set` or a flag) on the file's mapping `base` explains
    `problem`: it is about that key or a value under it, or about a place above it that the
    file does not have (the override made it) or whose message names the key's last part
    (a layer argument Keras refused)."""
    path = problem_path(problem)
    if path == key or path.startswith(key + "."):
        return True
    if not key.startswith(path + "."):
        return False
    return not has_path(base, path) or re.search(rf"\b{re.escape(key.rsplit('.', 1)[1])}\b",
                                                  problem) is not None

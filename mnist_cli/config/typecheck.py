"""Checks a YAML value against a dataclass field's type hint, without third-party schema code."""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin


def describe(hint: Any) -> str:
    """A short human name for a type hint, used in error messages."""
    origin = get_origin(hint)
    if origin is Literal:
        return " or ".join(repr(a) for a in get_args(hint))
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in get_args(hint))
    if origin is list:
        (inner,) = get_args(hint) or (Any,)
        return f"a list of {describe(inner)}"
    if hint is type(None):
        return "null"
    return {int: "an integer", float: "a number", bool: "true/false", str: "a string"}.get(
        hint, getattr(hint, "__name__", str(hint))
    )


def matches(value: Any, hint: Any) -> bool:
    """True when `value` (as parsed from YAML) fits `hint`."""
    origin = get_origin(hint)
    if origin is Literal:
        return value in get_args(hint)
    if origin in (Union, types.UnionType):
        return any(matches(value, a) for a in get_args(hint))
    if origin is list:
        (inner,) = get_args(hint) or (Any,)
        return isinstance(value, list) and all(matches(v, inner) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, hint)


def coerce(value: Any, hint: Any) -> Any:
    """Ints given for float fields become floats, so saved configs read naturally."""
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value

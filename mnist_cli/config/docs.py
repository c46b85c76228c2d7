"""The user-facing documentation of every config key: the field docstrings of
`mnist_cli/config/schema.py`, read from its source with `ast` (Python keeps no docstrings
for dataclass fields), for `mnist-cli config show --explain`."""

from __future__ import annotations

import ast
import functools
import inspect
from dataclasses import fields
from typing import Any

import yaml

from mnist_cli.config import schema
from mnist_cli.config.schema import SECTIONS, RunConfig


@functools.cache
def field_docs() -> dict[str, dict[str, str]]:
    """Class name -> {field name: its docstring} (the string right after the field), and
    the class's own docstring under the key ''."""
    tree = ast.parse(inspect.getsource(schema))
    docs: dict[str, dict[str, str]] = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        found = {"": ast.get_docstring(cls) or ""}
        for prev, node in zip(cls.body, cls.body[1:], strict=False):
            if (isinstance(prev, ast.AnnAssign) and isinstance(prev.target, ast.Name)
                    and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                found[prev.target.id] = inspect.cleandoc(node.value.value)
        docs[cls.name] = found
    return docs


def key_docs() -> dict[str, str]:
    """Dotted config key (`training.epochs`) -> its documentation, in schema order."""
    docs = field_docs()
    out = {"name": docs["RunConfig"]["name"]}
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            out[f"{section}.{f.name}"] = docs[cls.__name__].get(f.name, "")
    return out


def explain_json(cfg: RunConfig) -> dict[str, dict[str, Any]]:
    """Each dotted key -> {"value": resolved value, "doc": documentation}."""
    values = cfg.to_dict()
    result = {}
    for key, doc in key_docs().items():
        section, _, name = key.rpartition(".")
        value = values[section][name] if section else values[name]
        result[key] = {"value": value, "doc": doc}
    return result


def explain_yaml(cfg: RunConfig) -> str:
    """The resolved config as YAML with each key's documentation as a comment above it."""
    values = cfg.to_dict()
    docs = field_docs()
    lines = comment(docs["RunConfig"]["name"], "") + dump({"name": values["name"]}, "")
    for section, cls in SECTIONS.items():
        lines += comment(docs["RunConfig"][section], "") + [f"{section}:"]
        for f in fields(cls):
            lines += comment(docs[cls.__name__].get(f.name, ""), "  ")
            lines += dump({f.name: values[section][f.name]}, "  ")
    return "\n".join(lines) + "\n"


def comment(doc: str, indent: str) -> list[str]:
    return [f"{indent}# {line}".rstrip() for line in doc.splitlines()]


def dump(mapping: dict[str, Any], indent: str) -> list[str]:
    text = yaml.safe_dump(mapping, sort_keys=False, default_flow_style=False)
    return [indent + line for line in text.rstrip("\n").splitlines()]

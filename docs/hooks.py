"""MkDocs hook: replace each `<!-- generated: KIND [ARG] -->` line with what the tool itself
says (mnist_cli.cli.reference), so the command and config references cannot drift."""

from __future__ import annotations

from typing import Any

from mnist_cli.cli.reference import expand


def on_page_markdown(markdown: str, **_: Any) -> str:
    return expand(markdown)

"""The reference parts of the docs, generated from the tool itself so they cannot drift: the
command reference from the Typer app (every command, argument and option, grouped by help
panel as `--help` shows them), the config keys from the schema's field docstrings, and the
shipped configs as written. The docs site's MkDocs hook (docs/hooks.py) replaces each
`<!-- generated: KIND [ARG] -->` line of a page with `generated(KIND, ARG)`.

    python -m mnist_cli.cli.reference          # the command reference, as Markdown
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

PROG = "mnist-cli"
MARKER = re.compile(r"^<!-- generated: ([\w-]+)(?: (\S+))? -->$", re.M)


def expand(markdown: str) -> str:
    """A page with every generated marker replaced by its content."""
    return MARKER.sub(lambda m: generated(m[1], m[2]), markdown)


def generated(kind: str, arg: str | None = None) -> str:
    """The Markdown for one marker; an unknown kind fails the docs build."""
    if kind == "cli-reference":
        return cli_markdown()
    if kind == "config-keys":
        return config_markdown()
    if kind == "shipped-config" and arg:
        return shipped_config(arg)
    raise ValueError(f"unknown generated docs block {kind!r} {arg or ''}".strip())


def root_command() -> Any:
    """The click command tree Typer builds from the app (what `mnist-cli` runs)."""
    import typer

    from mnist_cli.cli.app import app

    return typer.main.get_command(app)


def walk(command: Any, path: str = PROG) -> Iterator[tuple[str, Any]]:
    """(`mnist-cli config show`, command) for the root and every command under it."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        if not getattr(sub, "hidden", False):
            yield from walk(sub, f"{path} {name}")


def cli_markdown(level: int = 2) -> str:
    """Every command as a section: its help, usage and one table per help panel."""
    sections = [command_markdown(path, command, level) for path, command in walk(root_command())]
    return "\n".join(sections)


def command_markdown(path: str, command: Any, level: int) -> str:
    import typer

    ctx = typer.Context(command, info_name=path)
    lines = [f"{'#' * level} `{path}`", "", text(command.help or ""), ""]
    lines += [f"**Usage:** `{usage(path, command)}`", ""]
    subs = {n: s for n, s in getattr(command, "commands", {}).items()
            if not getattr(s, "hidden", False)}
    if subs:
        lines += ["| Command | What it does |", "| --- | --- |"]
        lines += [f"| [`{name}`](#{anchor(f'{path} {name}')}) | "
                  f"{text(sub.get_short_help_str(80))} |" for name, sub in subs.items()]
        lines.append("")
    for panel, rows in panels(command, ctx).items():
        lines += [f"**{panel}**", "", "| Name | Description |", "| --- | --- |"]
        lines += [f"| `{name}` | {text(help_text)} |" for name, help_text in rows]
        lines.append("")
    return "\n".join(lines)


def usage(path: str, command: Any) -> str:
    """`mnist-cli evaluate [OPTIONS] TARGET` (optional arguments in brackets)."""
    pieces = [path, "[OPTIONS]"]
    for param in command.params:
        if param.param_type_name == "argument":
            name = param.name.upper()
            pieces.append(name if param.required else f"[{name}]")
    if getattr(command, "commands", None):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def panels(command: Any, ctx: Any) -> dict[str, list[tuple[str, str]]]:
    """Help panel -> (name with value, help) rows, arguments first, in declaration order."""
    found: dict[str, list[tuple[str, str]]] = {}
    params = sorted(command.get_params(ctx), key=lambda p: p.param_type_name != "argument")
    for param in params:
        record = None if getattr(param, "hidden", False) else param.get_help_record(ctx)
        if record is None:
            continue
        default = "Arguments" if param.param_type_name == "argument" else "Options"
        found.setdefault(getattr(param, "rich_help_panel", None) or default, []).append(record)
    return found


def text(value: str) -> str:
    """Help text as one table-safe Markdown line: code spans kept, HTML and pipes escaped
    outside them."""
    parts = " ".join(value.split()).split("`")
    for i in range(0, len(parts), 2):  # even parts are outside code spans
        parts[i] = html.escape(parts[i], quote=False).replace("|", "\\|")
    return "`".join(parts)


def anchor(heading: str) -> str:
    """The id MkDocs's toc extension gives a heading `` `mnist-cli config show` ``."""
    return re.sub(r"[^\w]+", "-", heading.lower()).strip("-")


def config_markdown() -> str:
    """Every config key: its default (when a file leaves it out) and its documentation."""
    import yaml

    from mnist_cli.config.docs import key_docs
    from mnist_cli.config.schema import RunConfig

    values = RunConfig().to_dict()
    lines = ["| Key | Default | Meaning |", "| --- | --- | --- |"]
    for key, doc in key_docs().items():
        section, _, name = key.rpartition(".")
        value = values[section][name] if section else values[name]
        shown = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...")
        lines.append(f"| `{key}` | `{shown.strip()}` | {text(doc)} |")
    return "\n".join(lines) + "\n"


def shipped_config(name: str) -> str:
    """A shipped config file as a YAML block, exactly as the package holds it."""
    from importlib.resources import files

    body = files("mnist_cli").joinpath("configs", f"{name}.yaml").read_text(encoding="utf-8")
    return f"```yaml\n{body.rstrip()}\n```\n"


if __name__ == "__main__":
    print(cli_markdown())

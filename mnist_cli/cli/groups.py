"""Option groups: a set of flags declared once (a dataclass of Typer options) and added to
any command's signature, so commands share flags without copying them.

Typer builds a command from `inspect.signature(callback)` and reads each parameter's
`Annotated[..., typer.Option(...)]`; `inspect.signature` returns a function's
`__signature__` when it has one. `with_groups` therefore replaces each group parameter by
the group's fields in `__signature__` (Typer sees plain flags, in the same order, with the
same names, defaults, panels and metavars) and, when the command runs, collects those
flags back into one group object.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _Group:
    def __repr__(self) -> str:
        return "GROUP"


# The default of a group parameter in a command's own signature (`out: OutputOptions =
# GROUP`): `with_groups` replaces that parameter, so the value is never used.
GROUP: Any = _Group()


class OptionGroup:
    """Base of a flag group: subclasses are dataclasses whose fields are annotated with
    `typer.Option` and whose defaults are the flags' defaults."""

    @classmethod
    def pick(cls, *names: str, **defaults: Any) -> Pick:
        """The fields a command shows, in help order (all when none named), with defaults
        changed for this command (`validation_split=0.1`)."""
        fields = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        unknown = [n for n in (*names, *defaults) if n not in fields]
        if unknown:
            raise TypeError(f"{cls.__name__} has no flag(s) {unknown}")
        return Pick(cls, tuple(names or fields), dict(defaults))

    def flags(self) -> dict[str, Any]:
        """Each field's value keyed by its flag (`--batch-size`), for messages."""
        hints = typing.get_type_hints(type(self), include_extras=True)
        return {flag_name(name, hints[name]): getattr(self, name)
                for name in (f.name for f in dataclasses.fields(self))}  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class Pick:
    """Which fields of a group one command exposes, and their defaults there."""

    group: type[OptionGroup]
    names: tuple[str, ...]
    defaults: dict[str, Any]

    def parameters(self) -> list[inspect.Parameter]:
        hints = typing.get_type_hints(self.group, include_extras=True)
        fields = {f.name: f for f in dataclasses.fields(self.group)}  # type: ignore[arg-type]
        return [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                  default=self.defaults.get(name, field_default(fields[name])),
                                  annotation=hints[name]) for name in self.names]

    def build(self, kwargs: dict[str, Any]) -> OptionGroup:
        """Take this pick's flags out of `kwargs` and make the group object (fields the
        command does not show keep the group's defaults)."""
        values = {n: kwargs.pop(n, self.defaults.get(n)) for n in self.names
                  if n in kwargs or n in self.defaults}
        return self.group(**values)


def field_default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return inspect.Parameter.empty


def flag_name(name: str, annotation: Any) -> str:
    """The option's long name as declared (`--set`), else Typer's default for `name`."""
    for meta in getattr(annotation, "__metadata__", ()):
        decls = [d for d in (meta.default, *(meta.param_decls or ()))
                 if isinstance(d, str) and d.startswith("--")]
        if decls:
            return decls[0].split("/")[0]
    return "--" + name.replace("_", "-")


def with_groups(**picks: Pick | type[OptionGroup]) -> Callable[[F], F]:
    """Expand each named parameter of the command into its group's flags (a `Pick`, or a
    group class for all of its flags); the command receives one group object per name."""
    chosen = {name: p if isinstance(p, Pick) else p.pick() for name, p in picks.items()}

    def decorate(func: F) -> F:
        hints = typing.get_type_hints(func, include_extras=True)
        params: list[inspect.Parameter] = []
        for param in inspect.signature(func).parameters.values():
            if param.name in chosen:
                params.extend(chosen[param.name].parameters())
            else:  # keyword-only throughout: Typer passes every flag by name
                params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY,
                                            annotation=hints.get(param.name, param.annotation)))
        names = [p.name for p in params]
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise TypeError(f"{func.__name__}: flag(s) {clashes} declared twice")

        @functools.wraps(func)
        def command(**kwargs: Any) -> Any:
            groups = {name: pick.build(kwargs) for name, pick in chosen.items()}
            return func(**kwargs, **groups)

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command  # type: ignore[return-value]

    return decorate

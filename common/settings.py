"""The base of every layer's settings: typed fields, a doc per field, environment fallback read in one place.

Each layer declares its own frozen Pydantic model (``llm.settings.LLMSettings``,
``knowledge.settings.KnowledgeSettings``, ``agent.app.settings.AppSettings``); ``agent.settings.Settings``
composes them. A field names its environment variable with :func:`setting`:

    class LLMSettings(EnvSettings):
        device: str | None = setting(None, env="TUTOR_DEVICE", doc="torch device (default: cuda when present)")

    LLMSettings.from_env()                  # every field from its variable, else its default
    LLMSettings.from_env(device="cpu")      # an explicit value (a CLI flag) wins over the variable

An empty variable counts as unset. A value that does not fit its field raises :class:`SettingsError`
naming the variable, before anything heavy loads.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


class SettingsError(ValueError):
    """A setting (usually an environment variable) holds a value its field cannot take."""


def setting(default: Any = PydanticUndefined, *, env: str | None = None, doc: str, shown: str | None = None,
            default_factory: Any = None, **constraints: Any) -> Any:
    """A settings field: ``doc`` is its help (README table, ``--help``), ``env`` its variable, ``shown`` how
    the default reads in the table when ``str(default)`` would not say it well (e.g. a path under ``~``)."""
    from pydantic import Field

    extra = {"env": env, "shown": shown}
    if default_factory is not None:
        return Field(default_factory=default_factory, description=doc, json_schema_extra=extra, **constraints)
    return Field(default, description=doc, json_schema_extra=extra, **constraints)


def _extra(info: FieldInfo) -> dict:
    return info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}


class EnvSettings(BaseModel):
    """A layer's settings: frozen, unknown names refused, every field from its variable unless given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **given: Any) -> Self:
        """The settings with ``given`` values (``None`` = not given) over the environment over the defaults."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            variable = _extra(info).get("env")
            if given.get(name) is not None:
                values[name] = given[name]
            elif isinstance(info.annotation, type) and issubclass(info.annotation, EnvSettings):
                values[name] = info.annotation.from_env(environ)
            elif variable and environ.get(variable, "").strip():
                values[name] = environ[variable].strip()
        unknown = set(given) - set(cls.model_fields)
        if unknown:
            raise TypeError(f"{cls.__name__} has no setting {sorted(unknown)}")
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_one_line(cls, exc)) from None


def _one_line(cls: type[EnvSettings], exc: ValidationError) -> str:
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    info = cls.model_fields.get(name)
    variable = _extra(info).get("env") if info else None
    where = f"{variable} (setting {name})" if variable else f"setting {name}"
    return f"{where}: {error['msg']}, got {error.get('input')!r}"


def fields_with_env(cls: type[EnvSettings], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """``(dotted name, field)`` for every field of ``cls`` and its nested settings that has a variable."""
    for name, info in cls.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, EnvSettings):
            yield from fields_with_env(info.annotation, f"{prefix}{name}.")
        elif _extra(info).get("env"):
            yield f"{prefix}{name}", info


def shown_default(info: FieldInfo) -> str:
    """The default as the table shows it (``~`` for the home folder, "unset" for None)."""
    shown = _extra(info).get("shown")
    if shown:
        return shown
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    text = str(value)
    home = str(Path.home())
    return "~" + text[len(home):] if text.startswith(home) else text


def markdown_table(cls: type[EnvSettings]) -> str:
    """A Markdown table of every environment variable ``cls`` (and its nested settings) reads."""
    lines = ["| variable | setting | default | meaning |", "|---|---|---|---|"]
    for name, info in fields_with_env(cls):
        meaning = (info.description or "").replace("|", "\\|")
        lines.append(f"| `{_extra(info)['env']}` | `{name}` | {shown_default(info)} | {meaning} |")
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser, cls: type[EnvSettings], *names: str) -> None:
    """Add ``--NAME`` flags for fields of ``cls``, with the field's doc and variable as help (default None,
    so an unset flag falls back to the variable in :meth:`EnvSettings.from_env`)."""
    for name in names:
        info = cls.model_fields[name]
        variable = _extra(info).get("env")
        help_text = info.description or ""
        if variable:
            help_text += f" (env {variable})"
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, default=None, help=help_text)

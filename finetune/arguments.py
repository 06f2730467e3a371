"""Turn the config dataclasses into command-line flags, and merge YAML + flags into one config.

The precedence is TRL's (``TrlParser``): dataclass defaults < the ``--config`` YAML file < flags given
on the command line. It is written here, in pure Python, rather than with ``TrlParser`` because the
flags must live on the ``tutor finetune`` sub-parser (built at ``tutor --help`` time, before any
heavy import), and because we need to know which flags the user actually typed: every flag is
registered with ``default=argparse.SUPPRESS``, so an absent flag never overrides the YAML.

    from finetune.arguments import parse_config
    config = parse_config(["--config", "finetune/configs/tutor_smollm2.yaml", "--max_steps", "10"])
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Callable, Literal

from finetune.config import CONFIG_CLASSES, FinetuneConfig

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}
_NONE = {"none", "null", "~", ""}


class ConfigError(ValueError):
    """A config file or flag names an unknown field or holds a value of the wrong type."""


def str_to_bool(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean (true/false), got {value!r}")


def _field_hints() -> dict[str, tuple[type, dataclasses.Field, Any]]:
    """``{name: (dataclass, field, type hint)}`` over all config classes; names must be unique."""
    out: dict[str, tuple[type, dataclasses.Field, Any]] = {}
    for cls in CONFIG_CLASSES:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.name in out:
                raise RuntimeError(f"config field {f.name!r} is defined twice")
            out[f.name] = (cls, f, hints[f.name])
    return out


def _converter(hint: Any) -> tuple[Callable[[Any], Any], list | None]:
    """A function turning a flag/YAML value into ``hint``'s type, and the allowed choices if any."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        base, choices = _converter(inner[0])

        def optional(value: Any) -> Any:
            if value is None or (isinstance(value, str) and value.strip().lower() in _NONE):
                return None
            return base(value)

        return optional, choices
    if origin is Literal:
        choices = list(typing.get_args(hint))

        def literal(value: Any) -> Any:
            if value not in choices:
                raise argparse.ArgumentTypeError(f"expected one of {choices}, got {value!r}")
            return value

        return literal, choices
    if hint is bool:
        return str_to_bool, None
    if hint is int:

        def to_int(value: Any) -> int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}")
            return int(value)

        return to_int, None
    if hint is float:

        def to_float(value: Any) -> float:
            # YAML 1.1 reads ``2e-4`` (no dot) as a string, so strings are converted too.
            if isinstance(value, bool):
                raise argparse.ArgumentTypeError(f"expected a number, got {value!r}")
            return float(value)

        return to_float, None
    if hint is str:
        return (lambda value: value if isinstance(value, str) else str(value)), None
    raise RuntimeError(f"unsupported config field type {hint!r}")


def add_config_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--config FILE`` and one flag per config field (``--name`` and ``--name-with-dashes``)."""
    parser.add_argument(
        "--config", default=argparse.SUPPRESS, metavar="FILE", help="YAML file of field: value pairs (flags win)"
    )
    for cls in CONFIG_CLASSES:
        group = parser.add_argument_group(cls.__name__, (cls.__doc__ or "").strip())
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            convert, choices = _converter(hints[f.name])
            default = f.default if f.default is not dataclasses.MISSING else None
            names = [f"--{f.name}"] + ([f"--{f.name.replace('_', '-')}"] if "_" in f.name else [])
            kwargs: dict[str, Any] = dict(
                dest=f.name, type=convert, default=argparse.SUPPRESS,
                help=f"{f.metadata.get('help', '')} (default: {default!r})",
            )
            if hints[f.name] is bool:  # ``--resume`` alone means true; ``--resume false`` is allowed too
                kwargs.update(nargs="?", const=True, metavar="BOOL")
            elif choices:
                kwargs.update(metavar="{" + ",".join(map(str, choices)) + "}")
            group.add_argument(*names, **kwargs)
    return parser


def load_yaml_values(path: str | Path) -> dict[str, Any]:
    """Read a flat YAML mapping of config fields; unknown keys and bad values raise :class:`ConfigError`."""
    import yaml

    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of field: value pairs")
    return coerce_values(raw, source=str(path))


def coerce_values(raw: dict[str, Any], source: str = "arguments") -> dict[str, Any]:
    """Check names against the config fields and convert values to the declared types."""
    fields = _field_hints()
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(f"{source}: unknown config field(s) {unknown}; known fields: {sorted(fields)}")
    out = {}
    for name, value in raw.items():
        convert, _ = _converter(fields[name][2])
        try:
            out[name] = convert(value)
        except (argparse.ArgumentTypeError, TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: field {name!r}: {exc}") from exc
    return out


def build_config(values: dict[str, Any]) -> FinetuneConfig:
    """A :class:`FinetuneConfig` from flat, already-coerced ``{field: value}`` pairs."""
    fields = _field_hints()
    groups: dict[type, dict[str, Any]] = {cls: {} for cls in CONFIG_CLASSES}
    for name, value in values.items():
        groups[fields[name][0]][name] = value
    model_cls, data_cls, train_cls = CONFIG_CLASSES
    return FinetuneConfig(model_cls(**groups[model_cls]), data_cls(**groups[data_cls]), train_cls(**groups[train_cls]))


def config_from_namespace(namespace: argparse.Namespace) -> FinetuneConfig:
    """Defaults < YAML (``namespace.config``) < flags present in ``namespace``."""
    values: dict[str, Any] = {}
    config_file = getattr(namespace, "config", None)
    if config_file:
        values.update(load_yaml_values(config_file))
    fields = _field_hints()
    values.update({name: value for name, value in vars(namespace).items() if name in fields})
    return build_config(values)


def parse_config(argv: list[str] | None = None) -> FinetuneConfig:
    """Parse ``argv`` (``--config FILE`` plus overrides) into a config, for scripts and tests."""
    parser = add_config_arguments(argparse.ArgumentParser(prog="finetune"))
    return config_from_namespace(parser.parse_args(argv))

"""Building blocks of the README figures (pure: json and the standard library only).

:class:`Results` reads a results file once; :class:`Row`/:class:`Table` and :class:`Prose` render README
blocks from it; :class:`DocFigure` is a figure a source file quotes. The registry of what is rendered
where is ``scripts/figures_registry.py`` (its tables in ``figures_bench.py`` and ``figures_reports.py``); the
command is ``scripts/readme_figures.py``.
"""

from __future__ import annotations

import json
import re
import string
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator


WIDTH = 116  # the README's line length


class FigureError(Exception):
    """A results file is missing or unreadable, or the README's markers are wrong."""


class Results:
    """Reads results files under one root, each once."""

    def __init__(self, root: Path):
        self.root = root
        self._cache: dict[str, Any] = {}

    def __call__(self, path: str) -> Any:
        if path not in self._cache:
            file = self.root / path
            if not file.is_file():
                raise FigureError(f"results file {path} is missing (under {self.root})")
            try:
                self._cache[path] = json.loads(file.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise FigureError(f"results file {path} is not valid JSON: {exc}") from None
        return self._cache[path]

    @property
    def count(self) -> int:
        return len(self._cache)


@contextmanager
def reading(source: str) -> Iterator[None]:
    """A results file whose shape changed (a key renamed, a row gone) is a clear error naming the file."""
    try:
        yield
    except FigureError as exc:
        raise FigureError(f"{source}: {exc}") from None
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise FigureError(f"{source}: no longer has the shape its renderer reads ({exc!r}); "
                          f"update its entry in scripts/figures_registry.py or the table module it imports") from None


# ------------------------------------------------------------------------------------ formatting


def pct(rate: float, digits: int = 1) -> str:
    return f"{100 * rate:.{digits}f} %"


def kilo(value: float) -> str:
    return f"{value / 1000:.1f}k"


def secs(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f} s"


def cpu_machine(d: dict, cpu: str = "cpu", threads: str = "threads", cores: str = "cpus") -> str:
    """The CPU a results file records: its model when recorded, else the core count, plus torch threads."""
    name = d.get(cpu) if d.get(cpu) not in (None, "x86_64") else None
    name = name or (f"{d[cores]} CPU cores (model not recorded)" if cores in d else "CPU not recorded")
    return f"{name}, {d[threads]} thread{'s' if d[threads] != 1 else ''}" if threads in d else name


def by(rows: list[dict], **match: Any) -> dict:
    """The one row whose fields equal ``match``."""
    found = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    if len(found) != 1:
        raise FigureError(f"expected one row with {match}, found {len(found)}")
    return found[0]


def variant(rows: list[dict], text: str) -> dict:
    """The one row whose ``variant`` contains ``text``."""
    found = [r for r in rows if text in r["variant"]]
    if len(found) != 1:
        raise FigureError(f"expected one variant containing {text!r}, found {len(found)}")
    return found[0]


def date(d: dict) -> str:
    """The day a results file records (top level or under ``environment``), or "undated"."""
    for where in (d, d.get("environment") or {}):
        when = where.get("date") or where.get("created")
        if when:
            return str(when)[:10]
    return "undated"


# ------------------------------------------------------------------------------------ README blocks


@dataclass(frozen=True)
class Row:
    """One table row from one results file: leading cells, the figures, the machine the file records."""

    source: str
    lead: tuple[str | Callable[[Any], str], ...]  # text, or read from the results (e.g. the command that made them)
    figures: Callable[[Any], str]
    machine: Callable[[Any], str]

    def render(self, results: Results) -> str:
        data = results(self.source)
        with reading(self.source):
            lead = [cell if isinstance(cell, str) else cell(data) for cell in self.lead]
            cells = [*lead, self.figures(data), self.machine(data), f"`{self.source}` ({self._date(data)})"]
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    @staticmethod
    def _date(data: Any) -> str:
        return date(data) if isinstance(data, dict) else "undated"


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[Row, ...]

    def render(self, results: Results) -> str:
        head = "| " + " | ".join(self.header) + " |\n|" + "---|" * len(self.header)
        return "\n".join([head, *(row.render(results) for row in self.rows)]) + "\n"

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(row.source for row in self.rows)


@dataclass(frozen=True)
class Prose:
    """A paragraph from one or more results files (``text`` gets one loaded document per source)."""

    sources: tuple[str, ...]
    text: Callable[..., str]

    def render(self, results: Results) -> str:
        data = [results(s) for s in self.sources]
        with reading(", ".join(self.sources)):
            text = " ".join(self.text(*data).split())
        return textwrap.fill(text, WIDTH, break_long_words=False, break_on_hyphens=False) + "\n"


@dataclass(frozen=True)
class DocFigure:
    """A figure a source file quotes: ``template`` filled by ``values(results file)`` must appear in ``path``."""

    path: str
    template: str
    source: str
    values: Callable[[Any], dict]

    def expected(self, results: Results) -> str:
        data = results(self.source)
        with reading(self.source):
            return self.template.format(**self.values(data))

    def pattern(self) -> re.Pattern:
        """The template with every field as any figure: finds the quoted text whatever its numbers."""
        parts = []
        for literal, field, _, _ in string.Formatter().parse(self.template):
            parts.append(re.escape(literal))
            if field is not None:
                parts.append(r"[-+0-9.,k%x]+")
        return re.compile("".join(parts))

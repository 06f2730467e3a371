"""Every figure in the README, and every figure a docstring keeps, rendered from the committed results.

    python scripts/readme_figures.py --check    # exit 1 and print a diff when README/docstrings disagree
    python scripts/readme_figures.py --write    # regenerate them from the results files

Pure (json and the standard library only; no torch, no model); ``tests/unit/test_readme_figures.py``
runs ``--check`` on the committed files, so CI fails when the README and the results disagree.

README: each block between ``<!-- figures:NAME -->`` and ``<!-- /figures -->`` is the output of
``SECTIONS[NAME]``. Tables are lists of :class:`Row` (one results file each; the row names the machine
or card that file records); paragraphs are :class:`Prose`. Docstrings: :data:`DOC_FIGURES` lists each
figure a source file quotes, as a template filled from a results file; ``--check`` fails when the file
does not contain the filled text, ``--write`` replaces the stale figure in place.

Adding a results file is one entry in ``scripts/figures_registry.py`` (see its docstring).
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # figures_* modules beside this file

from figures_lib import FigureError, Results  # noqa: E402
from figures_registry import DOC_FIGURES, SECTIONS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
README = "README.md"
BLOCK = re.compile(r"(<!-- figures:([a-z0-9_-]+) -->\n)(.*?)(<!-- /figures -->)", re.S)


# ------------------------------------------------------------------------------------ check / write


def inputs() -> list[str]:
    """Every file the check reads, relative to the repository root (the README, results, quoting files)."""
    paths = {README, *(fig.path for fig in DOC_FIGURES), *(fig.source for fig in DOC_FIGURES)}
    for section in SECTIONS.values():
        paths.update(section.sources)
    return sorted(paths)


def render_readme(text: str, results: Results) -> str:
    """``text`` with every figures block regenerated; unknown or missing blocks are errors."""
    names = [m.group(2) for m in BLOCK.finditer(text)]
    unknown = sorted(set(names) - set(SECTIONS))
    missing = sorted(set(SECTIONS) - set(names))
    if unknown or missing or len(names) != len(set(names)):
        raise FigureError(f"README figure blocks: unknown {unknown}, missing {missing}, found {names}")
    return BLOCK.sub(lambda m: m.group(1) + SECTIONS[m.group(2)].render(results) + m.group(4), text)


def doc_problems(root: Path, results: Results, write: bool) -> list[str]:
    """One line per docstring figure that disagrees with its results file (fixed in place with ``write``)."""
    problems = []
    for fig in DOC_FIGURES:
        file = root / fig.path
        if not file.is_file():
            raise FigureError(f"{fig.path}, which quotes a figure of {fig.source}, is missing")
        text = file.read_text(encoding="utf-8")
        want = fig.expected(results)
        if want in text:
            continue
        found = fig.pattern().findall(text)
        if write and len(found) == 1:
            file.write_text(text.replace(found[0], want), encoding="utf-8")
            continue
        says = f"says {found[0]!r}" if len(found) == 1 else f"has {len(found)} matches of the template"
        problems.append(f"{fig.path}: {says}; {fig.source} gives {want!r}")
    return problems


def run(root: Path, write: bool) -> int:
    results = Results(root)
    readme = root / README
    current = readme.read_text(encoding="utf-8")
    wanted = render_readme(current, results)
    problems = doc_problems(root, results, write)
    if write:
        if wanted != current:
            readme.write_text(wanted, encoding="utf-8")
            print(f"wrote {README}")
    elif wanted != current:
        sys.stdout.writelines(difflib.unified_diff(
            current.splitlines(True), wanted.splitlines(True), f"{README} (committed)", f"{README} (from results)"))
        problems.append(f"{README} differs from the results: run `python scripts/readme_figures.py --write`")
    for line in problems:
        print(line, file=sys.stderr)
    if not problems and not write:
        print(f"{README} and {len(DOC_FIGURES)} docstring figures agree with the {results.count} results files")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 with a diff when README/docstrings are stale")
    mode.add_argument("--write", action="store_true", help="regenerate README blocks and docstring figures")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    args = parser.parse_args(argv)
    try:
        return run(args.root.resolve(), write=args.write)
    except FigureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Dry-run aid: a site folder holding only what the GPU machine will have, so a missing wheel shows up here.

    python bench/gpu/gpu_sim.py --image bench/gpu/gpu_image_packages.txt --bundle WHEELS.txt --out DIR

DIR gets a symbolic link to each top-level entry of this venv's site-packages that belongs to a distribution
on the GPU image (the image list) or in the bundle (the wheel list); run Python as ``python -S`` with
``PYTHONPATH=DIR:<repo>`` and nothing else is importable (``importlib.util.find_spec`` answers None, as there).
Versions are not simulated: the venv's own are linked, so what the venv's versions of the image's packages
require is linked too (e.g. huggingface_hub 2.x here needs httpx2; the image's older one does not), except the
packages known to be missing on the image (ABSENT): those, and the bundle packages' own needs, must come
from the bundle.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

# Seen missing on the GPU image (../shared/ENVIRONMENT.md and the bundle that trained v1), although newer local
# versions of image packages require some of them (typer -> pydantic): never linked through a requirement.
ABSENT = {"bitsandbytes", "trl", "datasets", "outlines", "outlines-core", "pydantic", "pydantic-core", "dill",
          "multiprocess", "diskcache", "genson", "jsonschema", "referencing", "rpds-py", "jsonschema-specifications",
          "annotated-types", "typing-inspection", "gguf"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_names(path: Path) -> set[str]:
    return {norm(line.strip()) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")}


def with_requirements(names: set[str]) -> set[str]:
    """``names`` plus what the installed versions of them require (extras excluded), transitively."""
    todo, seen = list(names), set(names)
    while todo:
        try:
            requires = metadata.requires(todo.pop()) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            if re.search(r"extra\s*==", line):
                continue
            name = norm(re.split(r"[\s;<>=!~\[(]", line.strip(), maxsplit=1)[0])
            if name not in seen and name not in ABSENT:
                seen.add(name)
                todo.append(name)
    return seen


def build(image: Path, bundle: Path, out: Path) -> list[str]:
    allowed = with_requirements(read_names(image)) | read_names(bundle)
    out.mkdir(parents=True, exist_ok=True)
    linked = []
    for dist in metadata.distributions():
        if norm(dist.metadata["Name"] or "") not in allowed:
            continue
        site = Path(dist.locate_file(""))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in sorted(tops):
            target, link = site / top, out / top
            if target.exists() and not link.exists() and not top.endswith(".pth") and top != "__pycache__":
                link.symlink_to(target)
                linked.append(top)
    return linked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, required=True)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    linked = build(args.image, args.bundle, args.out)
    print(f"gpu_sim: {len(linked)} entries linked into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

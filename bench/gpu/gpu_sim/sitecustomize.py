"""Dry-run aid: make this CPU venv import like the GPU image, so a missing wheel shows up here, not there.

Put this folder first on PYTHONPATH, with GPU_SIM_IMAGE naming bench/gpu/gpu_image_packages.txt and
GPU_SIM_BUNDLE the bundle's wheel list (distribution names, one a line). Any other installed distribution's
top-level modules then fail to import with ModuleNotFoundError, as on the GPU machine. The standard library and
the project's own packages are never hidden. Versions are not simulated: the venv's own are used, so what the
venv's versions of the image's packages require is allowed too (e.g. huggingface_hub 2.x here needs httpx2;
the image's older one does not), except the packages known to be missing there (ABSENT, from
../shared/ENVIRONMENT.md and a bundle that worked): those, and the bundle packages' own needs, must come
from the bundle.
"""

from __future__ import annotations

import os
import re
import sys
from importlib import metadata
from importlib.abc import MetaPathFinder


# Seen missing on the GPU image, although newer local versions of image packages require some of them
# (typer -> pydantic): never admitted through another package's requirements.
ABSENT = {"bitsandbytes", "trl", "datasets", "outlines", "outlines-core", "pydantic", "pydantic-core", "dill",
          "multiprocess", "diskcache", "genson", "jsonschema", "referencing", "rpds-py", "jsonschema-specifications",
          "annotated-types", "typing-inspection", "gguf"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(variable: str) -> set[str]:
    path = os.environ.get(variable)
    if not path:
        return set()
    with open(path, encoding="utf-8") as handle:
        return {_norm(line.strip()) for line in handle if line.strip() and not line.startswith("#")}


def _with_requirements(names: set[str]) -> set[str]:
    """``names`` plus what the installed versions of them require (not extras), transitively."""
    todo, seen = list(names), set(names)
    while todo:
        try:
            requires = metadata.requires(todo.pop()) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            if "extra ==" in line or "extra==" in line:
                continue
            name = _norm(re.split(r"[\s;<>=!~\[(]", line.strip(), maxsplit=1)[0])
            if name not in seen and name not in ABSENT:
                seen.add(name)
                todo.append(name)
    return seen


def _allowed() -> set[str]:
    image = _names("GPU_SIM_IMAGE")
    if not image:
        return set()
    return _with_requirements(image) | _names("GPU_SIM_BUNDLE") | {"ml-tutor"}  # ml-tutor: the project itself


class _HideMissing(MetaPathFinder):
    def __init__(self, hidden: set[str]) -> None:
        self.hidden = hidden

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in self.hidden:
            raise ModuleNotFoundError(f"No module named {name!r} (gpu_sim: not on the GPU image nor in the bundle)",
                                      name=name)
        return None


def _install() -> None:
    allowed = _allowed()
    if not allowed:
        return
    hidden = set()
    for module, dists in metadata.packages_distributions().items():
        if module in sys.stdlib_module_names or any(_norm(d) in allowed for d in dists):
            continue
        hidden.add(module)
    sys.meta_path.insert(0, _HideMissing(hidden))


_install()

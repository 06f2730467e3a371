"""Find the checkpoint to resume from, ignoring ones a kill left half-written.

transformers writes ``checkpoint-N/`` in place (adapter, optimizer, scheduler, RNG state) and
``trainer_state.json`` last, so a checkpoint counts as complete only when that file parses and the
adapter weights are present. Pure file logic, no torch.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    """All ``checkpoint-N`` folders, oldest first."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))]
    return sorted(found)


def is_complete(checkpoint: Path) -> bool:
    state = checkpoint / "trainer_state.json"
    weights = any((checkpoint / name).is_file() for name in ("adapter_model.safetensors", "model.safetensors"))
    if not (state.is_file() and weights and (checkpoint / "optimizer.pt").is_file()):
        return False
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def last_complete(output_dir: str | Path) -> Path | None:
    """The newest complete checkpoint, or ``None``."""
    for _step, path in reversed(checkpoints(output_dir)):
        if is_complete(path):
            return path
    return None


def remove_incomplete_after(output_dir: str | Path, keep: Path | None) -> list[Path]:
    """Delete half-written checkpoints newer than ``keep`` (they would be rewritten anyway)."""
    keep_step = int(_CHECKPOINT.match(keep.name).group(1)) if keep else -1
    removed = []
    for step, path in checkpoints(output_dir):
        if step > keep_step and not is_complete(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def global_step(checkpoint: Path) -> int:
    return int(json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))["global_step"])

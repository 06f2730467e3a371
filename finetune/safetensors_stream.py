"""Read and write safetensors one tensor at a time, so peak memory stays near the largest tensor.

Reading uses plain positioned reads, not ``safe_open``'s memory map: a mapped file's touched pages
count toward the process's resident set, so mapping a whole checkpoint makes RSS grow to the model's
size even when only one tensor is alive. Writing plans every shard's header up front (the output
tensors have known names, dtypes and shapes) and then appends tensor bytes as they are produced.

The format: an 8-byte little-endian header length, a JSON header ``{name: {"dtype", "shape",
"data_offsets": [begin, end]}, "__metadata__": {...}}`` padded with spaces to 8 bytes, then the data.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

# safetensors dtype name -> (torch dtype name, bytes per element)
DTYPES = {
    "F64": ("float64", 8), "F32": ("float32", 4), "F16": ("float16", 2), "BF16": ("bfloat16", 2),
    "I64": ("int64", 8), "I32": ("int32", 4), "I16": ("int16", 2), "I8": ("int8", 1), "U8": ("uint8", 1),
    "BOOL": ("bool", 1),
}
INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: str  # safetensors name, e.g. "F32"
    shape: tuple[int, ...]
    file: Path
    start: int  # absolute byte offset in ``file``
    end: int

    @property
    def nbytes(self) -> int:
        return self.end - self.start


def read_header(path: Path) -> tuple[dict[str, TensorEntry], dict]:
    with path.open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + length
    entries = {
        name: TensorEntry(name, info["dtype"], tuple(info["shape"]), path, base + info["data_offsets"][0],
                          base + info["data_offsets"][1])
        for name, info in header.items()
    }
    return entries, metadata


def list_tensors(folder: str | Path) -> dict[str, TensorEntry]:
    """Every tensor of a (possibly sharded) safetensors checkpoint, in file order."""
    folder = Path(folder)
    index = folder / INDEX_NAME
    if index.is_file():
        files = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
    elif (folder / SINGLE_NAME).is_file():
        files = [SINGLE_NAME]
    else:
        files = sorted(p.name for p in folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"{folder} holds no .safetensors weights")
    out: dict[str, TensorEntry] = {}
    for name in files:
        entries, _ = read_header(folder / name)
        out.update(sorted(entries.items(), key=lambda item: item[1].start))
    return out


def load_tensor(entry: TensorEntry):
    """The tensor's bytes read into fresh memory (no mmap), as a torch tensor."""
    import torch

    buffer = bytearray(entry.nbytes)
    view = memoryview(buffer)
    with entry.file.open("rb", buffering=0) as handle:
        handle.seek(entry.start)
        done = 0
        while done < entry.nbytes:  # one read() returns at most ~2 GiB on Linux
            got = handle.readinto(view[done:])
            if not got:
                raise EOFError(f"{entry.file} ends inside tensor {entry.name}")
            done += got
    dtype = getattr(torch, DTYPES[entry.dtype][0])
    if entry.nbytes == 0:
        return torch.empty(entry.shape, dtype=dtype)
    return torch.frombuffer(buffer, dtype=dtype).reshape(entry.shape)


def safetensors_dtype(tensor: Any) -> str:
    name = str(tensor.dtype).replace("torch.", "")
    for key, (torch_name, _size) in DTYPES.items():
        if torch_name == name:
            return key
    raise TypeError(f"dtype {tensor.dtype} cannot be stored in safetensors")


class ShardedWriter:
    """Write planned tensors in order into shards of at most ``max_shard_bytes`` (one tensor may exceed it).

    ``plan`` is ``[(name, safetensors dtype, shape), ...]``; call :meth:`write` once per tensor in that
    order, then :meth:`close` (which writes the shard index when there is more than one shard).
    """

    def __init__(self, folder: Path, plan: Iterable[tuple[str, str, tuple[int, ...]]], max_shard_bytes: int):
        self.folder = Path(folder)
        shards: list[list[tuple[str, str, tuple[int, ...], int]]] = [[]]
        size = 0
        for name, dtype, shape in plan:
            nbytes = DTYPES[dtype][1]
            for dim in shape:
                nbytes *= dim
            if shards[-1] and size + nbytes > max_shard_bytes:
                shards.append([])
                size = 0
            shards[-1].append((name, dtype, tuple(shape), nbytes))
            size += nbytes
        count = len(shards)
        self.names = [SINGLE_NAME] if count == 1 else [f"model-{i + 1:05d}-of-{count:05d}.safetensors" for i in range(count)]
        self.shards = shards
        self.order = [(i, item) for i, shard in enumerate(shards) for item in shard]
        self.position = 0
        self.handle = None
        self.current = -1
        self.total_bytes = sum(item[3] for _, item in self.order)

    def _open(self, shard: int) -> None:
        if self.handle:
            self.handle.close()
        header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
        offset = 0
        for name, dtype, shape, nbytes in self.shards[shard]:
            header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
            offset += nbytes
        encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
        encoded += b" " * (-len(encoded) % 8)
        self.handle = (self.folder / self.names[shard]).open("wb")
        self.handle.write(struct.pack("<Q", len(encoded)))
        self.handle.write(encoded)
        self.current = shard

    def write(self, name: str, tensor: Any) -> None:
        shard, (planned, dtype, shape, nbytes) = self.order[self.position]
        if name != planned or tuple(tensor.shape) != shape or safetensors_dtype(tensor) != dtype:
            raise ValueError(f"tensor {name} {tuple(tensor.shape)} does not match the plan ({planned} {shape} {dtype})")
        if shard != self.current:
            self._open(shard)
        if nbytes:
            import torch

            # Raw bytes without a copy: reinterpret as uint8 and hand numpy's buffer to write().
            self.handle.write(tensor.detach().contiguous().reshape(-1).view(torch.uint8).numpy().data)
        self.position += 1

    def close(self) -> None:
        if self.handle:
            self.handle.close()
        if self.position != len(self.order):
            raise RuntimeError(f"only {self.position} of {len(self.order)} planned tensors were written")
        if len(self.names) > 1:
            weight_map = {item[0]: self.names[shard] for shard, item in self.order}
            index = {"metadata": {"total_size": self.total_bytes}, "weight_map": weight_map}
            (self.folder / INDEX_NAME).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")

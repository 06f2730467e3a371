"""Lossless, smaller carrying form of a GGUF file, so the embedded model reaches the GPU machine in fewer calls.

xz on the whole file barely helps (quantised blocks interleave scales with quant bytes). Here each Q8_0/Q4_1
block is split into its scale bytes and its quant bytes, every kind goes to its own xz stream, and the rest of
the file (header, tokenizer, padding, other tensors) to one more. Sizes for the embedded model: bench/gpu/ADAPTER.md.

    python bench/gpu/gguf_squeeze.py pack MODEL.gguf OUT.ggsq     # here (needs the `gguf` package)
    python bench/gpu/gguf_squeeze.py unpack IN.ggsq OUT.gguf       # there (numpy + stdlib only)

``unpack`` rebuilds the file byte for byte and refuses to write it unless its sha256 matches the one recorded
by ``pack``; ``pack`` unpacks its own output once before it returns.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import struct
import sys
from pathlib import Path

import numpy as np

MAGIC = b"GGSQ1\n"
# GGML block layouts: (bytes per block, leading scale bytes). Tensors of other types stay in the "rest" stream.
LAYOUTS = {"Q8_0": (34, 2), "Q4_1": (20, 4), "Q4_0": (18, 2), "Q5_0": (22, 2), "Q5_1": (24, 4)}


def _segments(path: Path) -> list[dict]:
    """Byte ranges of the blocked tensors, in file order (offsets are absolute)."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    found = [
        {"offset": int(t.data_offset), "length": int(t.n_bytes), "block": LAYOUTS[t.tensor_type.name][0],
         "scale": LAYOUTS[t.tensor_type.name][1]}
        for t in reader.tensors if t.tensor_type.name in LAYOUTS
    ]
    return sorted(found, key=lambda s: s["offset"])


def _key(seg: dict) -> str:
    return f"{seg['block']}x{seg['scale']}"


def pack(gguf: Path, out: Path, preset: int = 6) -> dict:
    data = np.fromfile(gguf, dtype=np.uint8)
    segments = _segments(gguf)
    keep = np.ones(data.size, dtype=bool)
    parts: dict[str, list[bytes]] = {}
    for seg in segments:
        blocks = data[seg["offset"] : seg["offset"] + seg["length"]].reshape(-1, seg["block"])
        parts.setdefault("scales" + _key(seg), []).append(blocks[:, : seg["scale"]].tobytes())
        parts.setdefault("quants" + _key(seg), []).append(blocks[:, seg["scale"] :].tobytes())
        keep[seg["offset"] : seg["offset"] + seg["length"]] = False
    raw = {"rest": data[keep].tobytes(), **{name: b"".join(chunks) for name, chunks in parts.items()}}
    streams, blobs = [], []
    for name, payload in raw.items():
        blob = lzma.compress(payload, preset=preset)
        streams.append({"name": name, "raw": len(payload), "xz": len(blob)})
        blobs.append(blob)
    header = {"size": int(data.size), "sha256": hashlib.sha256(data.tobytes()).hexdigest(), "name": gguf.name,
              "segments": segments, "streams": streams}
    head = json.dumps(header).encode()
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(MAGIC + struct.pack("<Q", len(head)) + head)
        for blob in blobs:
            handle.write(blob)
    check = unpack(tmp, None)  # byte-exact round trip before the file is published
    os.replace(tmp, out)
    return {**check, "gguf_bytes": int(data.size), "packed_bytes": out.stat().st_size, "streams": streams}


def unpack(packed: Path, out: Path | None) -> dict:
    """Rebuild the GGUF into ``out`` (None: only verify); raises if the sha256 differs."""
    with packed.open("rb") as handle:
        if handle.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"{packed} is not a gguf_squeeze file")
        (head_len,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(head_len))
        raw = {s["name"]: lzma.decompress(handle.read(s["xz"])) for s in header["streams"]}
    data = np.empty(header["size"], dtype=np.uint8)
    keep = np.ones(header["size"], dtype=bool)
    cursor: dict[str, int] = {}
    for seg in header["segments"]:
        rows = seg["length"] // seg["block"]
        view = data[seg["offset"] : seg["offset"] + seg["length"]].reshape(rows, seg["block"])
        for kind, cols in (("scales", slice(0, seg["scale"])), ("quants", slice(seg["scale"], seg["block"]))):
            name, width = kind + _key(seg), cols.stop - cols.start
            start = cursor.get(name, 0)
            view[:, cols] = np.frombuffer(raw[name], dtype=np.uint8, count=rows * width, offset=start).reshape(rows, width)
            cursor[name] = start + rows * width
        keep[seg["offset"] : seg["offset"] + seg["length"]] = False
    data[keep] = np.frombuffer(raw["rest"], dtype=np.uint8)
    digest = hashlib.sha256(data.tobytes()).hexdigest()
    if digest != header["sha256"]:
        raise ValueError(f"rebuilt file has sha256 {digest}, expected {header['sha256']}")
    if out is not None:
        tmp = out.with_name(out.name + ".tmp")
        data.tofile(tmp)
        os.replace(tmp, out)
    return {"sha256": digest, "name": header["name"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("gguf", type=Path)
    p.add_argument("out", type=Path)
    u = sub.add_parser("unpack")
    u.add_argument("packed", type=Path)
    u.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    info = pack(args.gguf, args.out) if args.command == "pack" else unpack(args.packed, args.out)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())

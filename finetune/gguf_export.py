"""Write a llama-architecture HF folder (e.g. a merged fine-tune) as one GGUF file, tensor by tensor.

    tutor export gguf --model runs/tutor/merged --out runs/tutor/tutor.gguf --outtype q8_0

Conventions follow llama.cpp's ``convert_hf_to_gguf.py``: tensor names from ``gguf``'s own name map
(``token_embd``, ``blk.N.attn_q``, ..., ``output_norm``, ``output``; no ``output`` when embeddings are
tied), ``llama.*`` hyper-parameters, 1-D tensors (norms) kept in F32 for every outtype, and the
q/k projection rows permuted for ggml's rotary layout (``permute_qk``; readers such as transformers
undo it on load). Llama-3-style rope scaling is written as the ``rope_freqs`` tensor, as llama.cpp does.

Memory: every tensor's type and size is planned first, the header and tensor index are written, and
then each tensor is read from safetensors (no mmap), converted and appended -- one tensor in RAM at a
time, never a second copy of the model. The file is written under a temporary name and renamed
when complete.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from common.files import atomic_path
from finetune.memory import current_rss_mb, peak_rss_mb, reset_peak_rss
from finetune.gguf_vocab import add_vocab, read_vocab
from finetune.safetensors_stream import list_tensors, load_tensor

OUTTYPES = ("f32", "f16", "bf16", "q8_0")
SKIPPED_SUFFIXES = ("rotary_emb.inv_freq",)


class GGUFExportError(ValueError):
    """The folder cannot be exported by this writer; the message says why."""


def permute_qk(weights: Any, n_head: int) -> Any:
    """llama.cpp's q/k permutation: per head, interleaved rotary halves -> ggml's layout."""
    return weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def llama3_rope_factors(config: dict, head_dim: int, theta: float) -> list[float] | None:
    """The ``rope_freqs`` values for Llama-3 rope scaling (``None`` for other rope types)."""
    scaling = config.get("rope_scaling") or config.get("rope_parameters") or {}
    if str(scaling.get("rope_type", scaling.get("type", ""))).lower() != "llama3":
        return None
    factor = scaling.get("factor", 8.0)
    low, high = scaling.get("low_freq_factor", 1.0), scaling.get("high_freq_factor", 4.0)
    old_context = scaling.get("original_max_position_embeddings", 8192)
    low_wavelen, high_wavelen = old_context / low, old_context / high
    factors = []
    for i in range(0, head_dim, 2):
        wavelen = 2 * math.pi / (1.0 / theta ** (i / head_dim))
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(float(factor))
        else:
            smooth = (old_context / wavelen - low) / (high - low)
            factors.append(1.0 / ((1 - smooth) / factor + smooth))
    return factors


def hyper_parameters(config: dict) -> dict:
    """The llama hyper-parameters GGUF stores, from an HF ``config.json``."""
    if config.get("model_type") != "llama":
        raise GGUFExportError(f"model_type {config.get('model_type')!r}: only llama-architecture models are exported")
    heads = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    rope = config.get("rope_parameters") or {}
    theta = float(rope.get("rope_theta", config.get("rope_theta", 10000.0)))
    return {
        "context_length": config.get("max_position_embeddings", 2048), "embedding_length": config["hidden_size"],
        "block_count": config["num_hidden_layers"], "feed_forward_length": config["intermediate_size"],
        "head_count": heads, "head_count_kv": config.get("num_key_value_heads", heads), "head_dim": head_dim,
        "rope_theta": theta, "rms_norm_eps": config.get("rms_norm_eps", 1e-5), "vocab_size": config["vocab_size"],
        "tied": bool(config.get("tie_word_embeddings", False)),
    }


def _target_type(outtype: str, shape: tuple[int, ...]):
    from gguf import GGMLQuantizationType as Q

    if len(shape) < 2 or outtype == "f32":
        return Q.F32
    if outtype == "f16":
        return Q.F16
    if outtype == "bf16":
        return Q.BF16
    return Q.Q8_0 if shape[-1] % 32 == 0 else Q.F16  # llama.cpp's fallback for rows not in 32-blocks


CHUNK_BYTES = 64 << 20  # rows converted at a time: bounds the fp32 working copy


def _convert(tensor: Any, qtype: Any) -> Any:
    """``tensor`` (torch, any float dtype) as the bytes GGUF stores for ``qtype``, as a numpy array.

    Rows are converted in chunks into one preallocated output array, so peak memory is the source
    tensor + the output + one fp32 chunk, not an fp32 copy of the whole tensor.
    """
    import numpy as np
    from gguf import GGMLQuantizationType as Q
    from gguf import quants

    rows = tensor.reshape(-1, tensor.shape[-1]) if tensor.dim() > 1 else tensor.reshape(1, -1)
    if qtype == Q.F32:
        out = np.empty(rows.shape, dtype=np.float32)
    elif qtype == Q.F16:
        out = np.empty(rows.shape, dtype=np.float16)
    else:
        out = np.empty(quants.quant_shape_to_byte_shape(rows.shape, qtype), dtype=np.uint8)
    step = max(1, CHUNK_BYTES // (4 * rows.shape[1]))
    for start in range(0, rows.shape[0], step):
        chunk = rows[start:start + step].float().numpy()
        out[start:start + step] = chunk if qtype in (Q.F32, Q.F16) else quants.quantize(chunk, qtype)
    return out


def _plan(folder: Path, hp: dict, outtype: str) -> list[tuple[str, Any, tuple[int, ...], Any]]:
    """``[(gguf name, safetensors entry or rope factors, shape, ggml type)]`` in write order."""
    from gguf import MODEL_ARCH, get_tensor_name_map

    name_map = get_tensor_name_map(MODEL_ARCH.LLAMA, hp["block_count"])
    plan = []
    for name, entry in list_tensors(folder).items():
        if name.endswith(SKIPPED_SUFFIXES) or (hp["tied"] and name == "lm_head.weight"):
            continue
        stem, _, suffix = name.rpartition(".")
        mapped = name_map.get_name(stem)
        if mapped is None:
            raise GGUFExportError(f"no GGUF name for tensor {name!r} (not a plain llama checkpoint?)")
        plan.append((f"{mapped}.{suffix}", entry, entry.shape, _target_type(outtype, entry.shape)))
    return plan


def write_gguf(folder: str | Path, out: str | Path, outtype: str = "f16", tokenizer_pre: str | None = None,
               progress: bool = True) -> dict:
    """Export ``folder`` (HF llama checkpoint in safetensors) to ``out``; returns what was written."""
    import numpy as np
    import torch
    from gguf import GGML_QUANT_VERSION, GGUFWriter, LlamaFileType, MODEL_ARCH_NAMES, MODEL_ARCH
    from gguf import GGMLQuantizationType as Q
    from gguf.quants import quant_shape_to_byte_shape
    from tqdm.auto import tqdm

    if outtype not in OUTTYPES:
        raise GGUFExportError(f"--outtype must be one of {OUTTYPES}")
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise GGUFExportError(f"{folder} is not an HF model folder (no config.json)")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if "quantization_config" in config:
        raise GGUFExportError("the folder holds a quantised checkpoint; export an unquantised (merged) model")
    hp = hyper_parameters(config)
    vocab = read_vocab(folder, hp["vocab_size"], pre=tokenizer_pre)
    plan = _plan(folder, hp, outtype)
    rope_factors = llama3_rope_factors(config, hp["head_dim"], hp["rope_theta"])
    if rope_factors is not None:
        plan.append(("rope_freqs.weight", rope_factors, (len(rope_factors),), Q.F32))

    reset_peak_rss()
    rss_before = current_rss_mb()
    started = time.perf_counter()
    file_type = {"f32": LlamaFileType.ALL_F32, "f16": LlamaFileType.MOSTLY_F16,
                 "bf16": LlamaFileType.MOSTLY_BF16, "q8_0": LlamaFileType.MOSTLY_Q8_0}[outtype]
    with atomic_path(out) as tmp:
        writer = GGUFWriter(str(tmp), MODEL_ARCH_NAMES[MODEL_ARCH.LLAMA])
        writer.add_name(config.get("_name_or_path") or folder.name)
        writer.add_context_length(hp["context_length"])
        writer.add_embedding_length(hp["embedding_length"])
        writer.add_block_count(hp["block_count"])
        writer.add_feed_forward_length(hp["feed_forward_length"])
        writer.add_head_count(hp["head_count"])
        writer.add_head_count_kv(hp["head_count_kv"])
        writer.add_rope_dimension_count(hp["head_dim"])
        writer.add_rope_freq_base(hp["rope_theta"])
        writer.add_layer_norm_rms_eps(hp["rms_norm_eps"])
        writer.add_vocab_size(hp["vocab_size"])
        if hp["head_dim"] != hp["embedding_length"] // hp["head_count"]:
            writer.add_key_length(hp["head_dim"])
            writer.add_value_length(hp["head_dim"])
        writer.add_file_type(int(file_type))
        if outtype == "q8_0":
            writer.add_quantization_version(GGML_QUANT_VERSION)
        add_vocab(writer, vocab)
        for name, _source, shape, qtype in plan:
            byte_shape = quant_shape_to_byte_shape(shape, qtype) if qtype not in (Q.F32, Q.F16) else shape
            itemsize = {Q.F32: 4, Q.F16: 2}.get(qtype, 1)
            writer.add_tensor_info(name, byte_shape, np.dtype(np.uint8 if itemsize == 1 else f"f{itemsize}"),
                                   int(np.prod(byte_shape)) * itemsize, raw_dtype=qtype)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for name, source, _shape, qtype in tqdm(plan, desc="writing GGUF", disable=not progress, leave=False):
            if isinstance(source, list):
                tensor = torch.tensor(source, dtype=torch.float32)
            else:
                tensor = load_tensor(source)  # stored dtype (bf16 stays bf16 until converted row by row)
                if name.endswith("attn_q.weight"):
                    tensor = permute_qk(tensor, hp["head_count"])
                elif name.endswith("attn_k.weight"):
                    tensor = permute_qk(tensor, hp["head_count_kv"])
            writer.write_tensor_data(_convert(tensor, qtype))
            del tensor
        writer.close()
    size = Path(out).stat().st_size
    return {
        "out": str(Path(out).resolve()), "outtype": outtype, "tensors": len(plan), "bytes": size,
        "gguf_mb": round(size / (1 << 20), 1), "tokenizer_pre": vocab.pre, "rope_freqs": rope_factors is not None,
        "seconds": round(time.perf_counter() - started, 2), "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }

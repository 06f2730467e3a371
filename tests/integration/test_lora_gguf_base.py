"""The shipped tutor adapter as a llama.cpp LoRA GGUF (llm/lora_gguf.py), checked against the real base GGUF and
PEFT's own merge, without llama.cpp: what llama.cpp computes from the two files is the torch path's merged model.

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest -q tests/integration/test_lora_gguf_base.py

llama.cpp (llama-adapter.cpp) refuses a LoRA tensor whose base tensor is missing or whose ggml shape is not
``a: [in, r]``, ``b: [r, out]`` (base ``[in, out]``), and adds ``alpha / b.ne[0] * b @ (a @ x)`` to the base
matmul; the torch path runs ``merge_and_unload`` of PEFT over the base weights dequantised from the same GGUF
(whose q/k rows are stored permuted). So the GGUF-layout weight plus that term must equal the PEFT-merged weight
in GGUF layout, for every adapted projection of every block: a wrong scale, a transposed or unpermuted factor,
or a missing module fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.model

PROJECTIONS = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
               "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
               "ffn_down": "mlp.down_proj"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """(base GGUF reader, LoRA GGUF reader, adapter folder) for the embedded model and the shipped adapter."""
    import gguf

    from llm.embedded import locate_gguf
    from llm.loading import load_model
    from llm.lora_gguf import write_lora_gguf

    lm = load_model(weights="dense", cache=False)  # the torch path: PEFT's merge_and_unload, fp32
    assert lm.adapter, "the shipped tutor adapter should load by default"
    base = locate_gguf()
    out = write_lora_gguf(Path(lm.adapter), base, tmp_path_factory.mktemp("lora") / "tutor.lora.gguf")
    return gguf.GGUFReader(str(base)), gguf.GGUFReader(str(out)), lm


def _field(reader, key):
    import gguf

    field = reader.fields[key]
    part = field.parts[field.data[0]]
    return bytes(part).decode("utf-8") if field.types[0] == gguf.GGUFValueType.STRING else part[0]


def test_header_and_every_tensor_is_one_llama_cpp_accepts(files):
    base, lora, lm = files
    config = json.loads((Path(lm.adapter) / "adapter_config.json").read_text(encoding="utf-8"))
    assert _field(lora, "general.type") == "adapter" and _field(lora, "adapter.type") == "lora"
    assert float(_field(lora, "adapter.lora.alpha")) == config["lora_alpha"]
    base_tensors = {t.name: t for t in base.tensors}
    pairs = {}
    for tensor in lora.tensors:
        name, _, part = tensor.name.rpartition(".")
        pairs.setdefault(name, {})[part] = tensor
    blocks = int(_field(base, "llama.block_count"))
    assert set(pairs) == {f"blk.{i}.{p}.weight" for i in range(blocks) for p in PROJECTIONS}
    for name, pair in pairs.items():
        a, b, w = pair["lora_a"], pair["lora_b"], base_tensors[name]
        assert a.tensor_type.name == b.tensor_type.name == "F32", name
        assert (int(a.shape[0]), int(b.shape[1])) == (int(w.shape[0]), int(w.shape[1])), name  # ggml ne order
        assert int(a.shape[1]) == int(b.shape[0]) == config["r"], name


def test_llama_cpp_sum_is_the_peft_merged_weight_in_gguf_layout(files):
    import gguf

    from llm.lora_gguf import permute_rows
    from llm.loading import load_model

    base, lora, lm = files
    plain = load_model(adapter="none", weights="dense", cache=False).model.state_dict()
    merged = lm.model.state_dict()
    heads = {"attn_q": int(_field(base, "llama.attention.head_count")),
             "attn_k": int(_field(base, "llama.attention.head_count_kv"))}
    alpha = float(_field(lora, "adapter.lora.alpha"))
    base_tensors = {t.name: t for t in base.tensors}
    factors = {t.name: np.array(t.data, dtype=np.float64) for t in lora.tensors}
    layout = lambda proj, w: permute_rows(w, heads[proj]) if proj in heads else w  # noqa: E731
    checked = 0
    for block in range(int(_field(base, "llama.block_count"))):
        for proj, module in PROJECTIONS.items():
            name, key = f"blk.{block}.{proj}.weight", f"model.layers.{block}.{module}.weight"
            stored = base_tensors[name]
            if proj in heads and block % 10 == 0:  # the base GGUF's own q/k layout is the one the LoRA rows take
                dequantised = gguf.quants.dequantize(stored.data, stored.tensor_type)
                np.testing.assert_array_equal(dequantised, layout(proj, plain[key].numpy()))
            a, b = factors[f"{name}.lora_a"], factors[f"{name}.lora_b"]
            llama_cpp_delta = alpha / b.shape[1] * (b @ a)  # numpy [out, r] @ [r, in]; b.shape[1] is ggml's b.ne[0]
            peft_delta = layout(proj, (merged[key].double() - plain[key].double()).numpy())
            scale = np.abs(peft_delta).max()
            assert scale > 0, name
            # fp32 rounding in PEFT's merge leaves 3e-5 of the largest entry (measured); a 10 % scale error 0.1
            np.testing.assert_allclose(llama_cpp_delta, peft_delta, atol=1e-3 * scale, rtol=0, err_msg=name)
            checked += 1
    assert checked == 7 * 30

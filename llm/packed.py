"""Packed 4-/8-bit weights for fast single-token decoding on CPU, without changing the model's weights.

Why: one decode step reads every weight once, and the embedded model dequantised to fp32 is 540 MB, so fp32
decoding is bound by memory traffic (``bench/results/decode_variants.json``: the lean fp32 step decodes 15.8 tokens/s).
The embedded GGUF is *already* quantised: every linear layer is Q4_1 (a 4-bit code, an fp16 scale and
an fp16 minimum per block of 32 inputs) and the tied embedding/LM head is Q8_0 (an 8-bit code and an
fp16 scale per block of 32). transformers dequantises those to fp32 on load; this module recovers the
exact codes from the fp32 values and runs decode steps through torch's CPU weight-only kernels
(``_weight_int4pack_mm_for_cpu``; the 8-bit head as two 4-bit halves), reading ~5.5x fewer bytes a token.

What changes numerically, and what does not:

* A layer is packed only if its codes reproduce its fp32 weights to within 1/1000 of a quantisation step
  (checked per layer at load; any other model, e.g. a full-precision hub checkpoint, stays dense).
* Calls with more than ``max_rows`` rows (prefill, log-likelihood scoring, batched generation) use the
  dense fp32 weights, exactly as before.
* Decode steps feed the packed kernels bf16 inputs and get bf16 outputs, with scales rounded to bf16
  (the kernels' fast path); norms, attention, residuals and the KV cache stay fp32.
* With a PEFT adapter, the dense weights are the merged ones (prefill), and decode steps add the
  adapter's low-rank product in fp32 to the packed *base* codes: ``y = Wq x + B (A x) * scale``.

Chosen by :func:`llm.loading.load_model` (``weights=``, ``$TUTOR_CPU_WEIGHTS``): ``auto`` (default)
packs on CPU when the kernels pass a self-check, ``dense`` turns it off. Measured speed and ARC
answers per format: ``bench/decode_variants.py`` and ``bench/results/decode_variants.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

GROUP = 32  # Q4_1 and Q8_0 block length (inputs per scale)
MAX_ROWS = 4  # calls with more rows than this use the dense weights
TOLERANCE = 1e-3  # of one quantisation step
EXACT_ROWS = 3  # rows per int4 call that keep each row's result bit-identical to a one-row call (llm.batching)


def q4_1_blocks(weight: torch.Tensor, group: int = GROUP) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """``(codes int32 [N, K], scale [N, K/group], minimum [N, K/group])`` with ``w = code * scale + minimum``.

    ``None`` when ``weight`` is not (to within :data:`TOLERANCE` of a step) such a 4-bit grid.
    """
    rows, cols = weight.shape
    if cols % group:
        return None
    blocks = weight.detach().float().reshape(rows, cols // group, group)
    low, high = blocks.amin(-1), blocks.amax(-1)
    scale = ((high - low) / 15).half().float()  # GGUF stores the scale as fp16
    step = torch.where(scale > 0, scale, torch.ones_like(scale))
    codes = torch.round((blocks - low[..., None]) / step[..., None]).clamp(0, 15)
    error = (codes * scale[..., None] + low[..., None] - blocks).abs()
    if bool((error > TOLERANCE * step[..., None]).any()):
        return None
    return codes.reshape(rows, cols).to(torch.int32), scale, low


def q8_0_blocks(weight: torch.Tensor, group: int = GROUP) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(codes int8 [N, K/group, group], scale [N, K/group])`` with ``w = code * scale``, or ``None``."""
    rows, cols = weight.shape
    if cols % group:
        return None
    blocks = weight.detach().float().reshape(rows, cols // group, group)
    scale = (blocks.abs().amax(-1) / 127).half().float()
    step = torch.where(scale > 0, scale, torch.ones_like(scale))
    codes = torch.round(blocks / step[..., None]).clamp(-127, 127)
    if bool(((codes * scale[..., None] - blocks).abs() > TOLERANCE * step[..., None]).any()):
        return None
    return codes.to(torch.int8), scale


class PackedMatmul:
    """Packed Q4_1 codes (+ LoRA factors) of one linear layer, or of several that read the same input.

    q/k/v and gate/up each share their input, so one kernel call (and one LoRA product, with a
    block-diagonal B) computes all their outputs; the call keeps its last input and output, and the
    group's other layers, called next with the very same input tensor, take their slice of it. The
    tensors are plain attributes, not buffers: CPU only, never saved, and cheap to read 120 times a token.
    """

    def __init__(self, blocks: list[tuple], loras: list[tuple | None]):
        codes, scale, minimum = (torch.cat([b[i] for b in blocks]) for i in range(3))
        self.packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(codes, 1)
        # The kernel computes (code - 8) * scale + zero: zero = minimum + 8 * scale.
        zeros = minimum + 8 * scale
        self.scales_zeros = torch.stack([scale.t(), zeros.t()], -1).to(torch.bfloat16).contiguous()
        self.shared = len(blocks) > 1
        self.lora_a = self.lora_b = None
        present = [(i, lora) for i, lora in enumerate(loras) if lora is not None]
        if present:  # A stacked (sum of ranks x in), B block-diagonal (sum of ranks x sum of outputs); fp32:
            ends = torch.tensor([b[0].shape[0] for b in blocks]).cumsum(0).tolist()  # bf16 is slower here
            self.lora_a = torch.cat([a.detach().float() for _, (a, _) in present]).t().contiguous()
            self.lora_b = torch.zeros(self.lora_a.shape[1], ends[-1])
            row = 0
            for i, (a, b_scaled) in present:
                start = ends[i - 1] if i else 0
                self.lora_b[row:row + a.shape[0], start:ends[i]] = b_scaled.detach().float().t()
                row += a.shape[0]
        self.last_input = self.last_output = None

    def __call__(self, x: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
        if self.shared and x is self.last_input:
            return self.last_output
        y = torch.ops.aten._weight_int4pack_mm_for_cpu(flat.to(torch.bfloat16), self.packed, GROUP,
                                                       self.scales_zeros).float()
        if self.lora_a is not None:
            y = torch.addmm(y, flat @ self.lora_a, self.lora_b)
        if self.shared:
            self.last_input, self.last_output = x, y
        return y


class PackedLinear(nn.Module):
    """A linear layer: its dense weights for many rows, its packed matmul (columns ``start:stop``) for a few."""

    def __init__(self, dense: nn.Linear, matmul: PackedMatmul, start: int = 0, max_rows: int = MAX_ROWS):
        super().__init__()
        self.dense = dense
        self.matmul = matmul
        self.max_rows = max_rows
        self.out_features = dense.out_features
        self.start, self.stop = start, start + dense.out_features
        self.whole = not matmul.shared
        self.bias = None if dense.bias is None else dense.bias.detach()

    @property
    def weight(self) -> torch.Tensor:  # for code that inspects ``layer.weight`` (dtype, device)
        return self.dense.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1])
        if flat.shape[0] > self.max_rows or x.dtype != torch.float32:
            return self.dense(x)
        y = self.matmul(x, flat)
        if not self.whole:
            y = y[:, self.start:self.stop].contiguous()
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features)


class PackedHead(nn.Module):
    """The Q8_0 LM head through the int4 kernel: each 8-bit code split into two 4-bit halves, one call.

    A code ``c`` (-127..127) is ``16 * hi + lo`` with ``lo = c mod 16`` (0..15) and ``hi`` in -8..7, so the
    weight ``c * s`` is ``hi * 16s + lo * s``: the input, repeated once, meets the ``hi`` codes (scale ``16s``)
    in its first half and the ``lo`` codes (scale ``s``, zero ``8s``, since the kernel computes
    ``(code - 8) * scale + zero``) in its second, and the kernel sums both in fp32. Same bytes as int8 codes,
    every weight the Q8_0 value (with its scale in bf16, as before), but one call and one bf16 rounding of the
    logits, where one ``_weight_int8pack_mm`` call per block of 32 inputs (its scales are per row only) took
    18 calls and summed 18 rounded partials. Measured on the embedded model's head over 147 real hidden
    states (2 threads): 1.60 ms against 2.04 ms a row, max logit error against the dequantised head 0.17
    against 0.23 (mean 0.085 against 0.117), the same argmax every time. Rows go through in chunks of
    :data:`EXACT_ROWS`, where the int4 kernel gives each row its single-row result bit for bit.
    """

    def __init__(self, dense: nn.Linear, blocks, max_rows: int = MAX_ROWS):
        super().__init__()
        codes, scale = blocks
        self.dense = dense
        self.max_rows = max_rows
        rows = codes.shape[0]
        code = codes.to(torch.int32)
        low = code & 15  # two's complement: c mod 16
        high = (code - low) // 16
        planes = torch.cat([(high + 8).reshape(rows, -1), low.reshape(rows, -1)], 1)
        scale = scale.to(torch.bfloat16).float()  # as the int8 path had it: the fp16 scale rounded to bf16
        self.rows, padded = rows, -(-rows // 16) * 16  # the kernel packs rows in 16s: zero rows pad the rest
        planes = torch.cat([planes, planes.new_zeros(padded - rows, planes.shape[1])])
        scale = torch.cat([scale, scale.new_zeros(padded - rows, scale.shape[1])])
        self.packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(planes.contiguous(), 1)
        scales = torch.cat([16 * scale, scale], 1)
        zeros = torch.cat([torch.zeros_like(scale), 8 * scale], 1)
        self.scales_zeros = torch.stack([scales.t(), zeros.t()], -1).to(torch.bfloat16).contiguous()

    @property
    def weight(self) -> torch.Tensor:
        return self.dense.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1])
        if flat.shape[0] > self.max_rows or x.dtype != torch.float32:
            return self.dense(x)
        xb = flat.to(torch.bfloat16)
        xb = torch.cat([xb, xb], 1)
        parts = [torch.ops.aten._weight_int4pack_mm_for_cpu(xb[i:i + EXACT_ROWS], self.packed, GROUP,
                                                            self.scales_zeros) for i in range(0, len(xb), EXACT_ROWS)]
        y = (parts[0] if len(parts) == 1 else torch.cat(parts)).float()
        if y.shape[-1] != self.rows:
            y = y[:, : self.rows]
        return y.reshape(*x.shape[:-1], y.shape[-1])


@dataclass
class PackReport:
    """What :func:`pack_model` did, recorded with the loaded model."""

    packed: int = 0
    dense: list[str] = field(default_factory=list)  # linear layers left dense (not a 4-bit grid)
    head: bool = False

    @property
    def label(self) -> str:
        return f"packed ({self.packed} int4 layers{', int8 head' if self.head else ''}; {len(self.dense)} dense)"


def kernels_work() -> bool:
    """The CPU int4 kernel exists in this torch and agrees with a dense matmul on a random layer and head."""
    if not hasattr(torch.ops.aten, "_weight_int4pack_mm_for_cpu"):
        return False
    generator = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 16, (64, 64), generator=generator)
    codes[:, ::GROUP], codes[:, 1::GROUP] = 0, 15  # as in real Q4_1 blocks: the extremes hit codes 0 and 15
    scale = (torch.rand(64, 2, generator=generator) / 50).half().float()
    minimum = (torch.randn(64, 2, generator=generator) / 50).half().float()
    dense = nn.Linear(64, 64, bias=False)
    with torch.no_grad():
        dense.weight.copy_(codes.float() * scale.repeat_interleave(GROUP, 1) + minimum.repeat_interleave(GROUP, 1))
    x = torch.randn(1, 64, generator=generator)
    try:
        with torch.no_grad():
            layer = PackedLinear(dense, PackedMatmul([q4_1_blocks(dense.weight)], [None]))
            head_codes = torch.randint(-127, 128, (64, 2, GROUP), generator=generator, dtype=torch.int8)
            head = PackedHead(dense, (head_codes, scale))
            expected_head = x @ (head_codes.reshape(64, 64).float() * scale.repeat_interleave(GROUP, 1)).t()
            ok = torch.allclose(layer(x), dense(x), rtol=2e-2, atol=2e-2)
            return ok and torch.allclose(head(x), expected_head, rtol=2e-2, atol=2e-2)
    except (RuntimeError, TypeError):
        return False


def encode_linears(model: nn.Module) -> dict[str, tuple]:
    """Q4_1 blocks of every 4-bit-grid ``nn.Linear`` in ``model`` (LM head excluded), by module name.

    Call it on the *base* weights, before an adapter is merged.
    """
    found = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and not name.endswith("lm_head"):
            found[name] = q4_1_blocks(module.weight)
    return found


def lora_factors(peft_model) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{module name: (A, B * scaling)}`` of a PEFT LoRA model's active adapter (plain LoRA only).

    Names are relative to the wrapped transformers model, i.e. as after ``merge_and_unload()``. A layer
    using a LoRA variant (DoRA, LoRA bias) is left out, and :func:`pack_model` keeps it dense.
    """
    (adapter,) = peft_model.active_adapters
    factors = {}
    for name, module in peft_model.base_model.model.named_modules():
        lora_a = getattr(module, "lora_A", None)
        if lora_a is None or adapter not in lora_a:
            continue
        if adapter in getattr(module, "lora_magnitude_vector", {}) or getattr(module, "lora_bias", {}).get(adapter):
            factors[name] = None
            continue
        b_scaled = module.lora_B[adapter].weight * module.scaling[adapter]
        factors[name] = (lora_a[adapter].weight.detach().clone(), b_scaled.detach().clone())
    return factors


SHARED_INPUT = (("q_proj", "k_proj", "v_proj"), ("gate_proj", "up_proj"))  # Llama-family names


def pack_model(model: nn.Module, blocks: dict[str, tuple | None] | None = None,
               lora: dict[str, tuple | None] | None = None, max_rows: int = MAX_ROWS) -> PackReport:
    """Swap ``model``'s linear layers (and tied LM head) for packed ones in place; returns what it did.

    ``blocks`` are the base weights' Q4_1 blocks from :func:`encode_linears` (computed here when there is
    no adapter); ``lora`` the adapter's factors from :func:`lora_factors` when ``model`` is merged.
    """
    blocks = encode_linears(model) if blocks is None else blocks
    lora = lora or {}
    report = PackReport()
    for parent_name, parent in list(model.named_modules()):
        prefix = f"{parent_name}." if parent_name else ""
        packable = {}
        for child_name, child in parent.named_children():
            name = prefix + child_name
            if not isinstance(child, nn.Linear) or name.endswith("lm_head"):
                continue
            if blocks.get(name) is None or (name in lora and lora[name] is None):
                report.dense.append(name)
            else:
                packable[child_name] = child
        groups = [g for g in SHARED_INPUT if all(n in packable for n in g)
                  and len({packable[n].in_features for n in g}) == 1]
        grouped = {n for g in groups for n in g}
        for group in groups + [(n,) for n in packable if n not in grouped]:
            matmul = PackedMatmul([blocks[prefix + n] for n in group], [lora.get(prefix + n) for n in group])
            start = 0
            for n in group:
                setattr(parent, n, PackedLinear(packable[n], matmul, start, max_rows))
                start += packable[n].out_features
                report.packed += 1
    head = getattr(model, "lm_head", None)
    if isinstance(head, nn.Linear) and head.bias is None:  # (no LM head in this family has a bias)
        grid = q8_0_blocks(head.weight)
        if grid is not None:
            model.lm_head = PackedHead(head, grid, max_rows)
            report.head = True
    return report


def set_max_rows(model: nn.Module, max_rows: int) -> None:
    """Route calls of up to ``max_rows`` rows through the packed kernels (benchmarks force all calls)."""
    for module in model.modules():
        if isinstance(module, (PackedLinear, PackedHead)):
            module.max_rows = max_rows

"""Continuous batching on CPU: one decode step serves every active generation of the process.

Requests come from any thread (or asyncio task); one worker thread admits each (its prefill is the model's
own forward, alone), then runs decode steps over all active sequences together: a new request joins at the
next step, a finished one leaves. Each request has its own stop tokens, token budget and logits processors
(transformers' ``(input_ids, scores) -> scores`` interface, which Outlines' constraint processors share), and
streams its tokens back to its own handle.

Why not transformers' continuous batching (``generate_batch``, transformers 5.24): on the embedded model on CPU
4 prompts x 32 greedy tokens took 81.8 s against 31.4 s one after the other with ``generate`` (same loaded
2-core machine, back to back), one of the 4 outputs differed from ``generate``'s, and it takes no per-request
logits processor beyond temperature/top-k/top-p (no Outlines constraint).

Why no padded batch: each sequence keeps the ``DynamicCache`` of its own prefill and attends alone; only the
matrix products (projections, MLP, LM head) take all rows at once, and those read the weights once for every
row. The packed int4 kernel (``llm.packed``) gives each row bit-identical results only in calls of at most 3
rows (measured on torch 2.13: rows of a 1-, 2- or 3-row call equal the single-row results, rows of 4+-row
calls differ by ~6e-6), so packed layers take the rows in chunks of 3 and the head in chunks of its ``max_rows``
(``llm.packed.PackedHead`` splits those into 3-row int4 calls): every token equals the unbatched path's bit for bit.
Dense ``nn.Linear`` layers take all rows in one call (float-order differences in the last bits are possible).
The price of exactness: torch's CPU int4 kernel is compute-bound here, so each 3-row chunk costs about what one
row does (measured by hand, one thread: the 30 layers' projections took 31 ms for 1 row, 223 ms for 20 rows in
7 chunks; the int8 head 6 and 76 ms). Throughput and waiting per request, batched vs one at a time:
``bench/batched_decode.py`` (``bench/results/batched_decode.json``).

    scheduler = BatchScheduler.for_model(lm)            # one per loaded model (None: not batchable)
    handle = scheduler.submit(prompt_ids, max_new_tokens=64, stop_ids={eos})
    for token in handle: ...                            # streamed; handle.result() waits for all of them
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from transformers import DynamicCache
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from llm.fast_decode import decode_step, supported
from llm.loading import LoadedModel, generating, per_model
from llm.priority import lower_thread_priority

EXACT_ROWS = 3  # rows per packed int4 call that keep each row bit-identical to a single-row call (see above)
Processor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (input_ids [1, L], scores [1, V]) -> scores
_DONE = object()


@dataclass
class Generation:
    """One request: its settings, and a queue its tokens (then the end) come back through."""

    prompt_ids: list[int]
    max_new_tokens: int
    stop_ids: frozenset[int]
    processors: Sequence[Processor] = ()
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    tokens: list[int] = field(default_factory=list)
    finish_reason: str | None = None  # "stop" (a stop token), "length" (budget), "cancelled", "error"
    submitted: float = field(default_factory=time.perf_counter)
    _out: queue.Queue = field(default_factory=queue.Queue, repr=False)
    _cancelled: threading.Event = field(default_factory=threading.Event, repr=False)
    _error: BaseException | None = field(default=None, repr=False)
    _cache: DynamicCache | None = field(default=None, repr=False)
    _rng: torch.Generator | None = field(default=None, repr=False)

    def __iter__(self) -> Iterator[int]:
        """The new tokens as they are decoded (the stop token is not included); raises the worker's error."""
        while (item := self._out.get()) is not _DONE:
            yield item
        if self._error is not None:
            raise self._error

    async def stream(self):
        """The same tokens for an asyncio task (each wait runs in a thread, the loop stays free)."""
        import asyncio

        while (item := await asyncio.to_thread(self._out.get)) is not _DONE:
            yield item
        if self._error is not None:
            raise self._error

    def result(self) -> list[int]:
        """Wait for the end and return every new token."""
        for _ in self:
            pass
        return list(self.tokens)

    def cancel(self) -> None:
        """Leave the batch at the next step (a consumer that has what it needs)."""
        self._cancelled.set()


class BatchScheduler:
    """The worker that batches every generation of one loaded model (Llama family, CPU)."""

    def __init__(self, lm: LoadedModel, max_batch: int = 32):
        self.lm, self.max_batch = lm, max_batch
        self._pending: queue.Queue[Generation] = queue.Queue()
        self._active: list[Generation] = []
        self.steps = 0  # decode steps run; rows_stepped / steps = the mean batch
        self.rows_stepped = 0
        self._worker = threading.Thread(target=self._run, name="llm-batching", daemon=True)
        self._worker.start()

    @classmethod
    def for_model(cls, lm: LoadedModel) -> "BatchScheduler | None":
        """The per-process scheduler of ``lm`` (kept in ``lm.extras``); ``None`` for a model it cannot step."""
        return per_model(lm, "batching", cls) if batchable(lm) else None

    def submit(self, prompt_ids: Sequence[int], *, max_new_tokens: int, stop_ids: set[int] | frozenset[int] = frozenset(),
               processors: Sequence[Processor] = (), temperature: float = 0.0, top_p: float = 1.0,
               seed: int = 0) -> Generation:
        """Queue a generation; it joins the batch at the worker's next step."""
        if not prompt_ids:
            raise ValueError("a generation needs at least one prompt token")
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, not {max_new_tokens}")
        handle = Generation(list(prompt_ids), max_new_tokens, frozenset(stop_ids), tuple(processors),
                            temperature, top_p, seed)
        self._pending.put(handle)
        return handle

    # ---------------------------------------------------------------- worker

    def _run(self) -> None:
        lower_thread_priority()  # quiz turns that need no model get the cores first (llm.priority)
        while True:
            self._admit(wait=not self._active)  # with nothing to step, sleep until a request arrives
            if self._active:
                self._guarded(self._active, self._step)

    def _admit(self, wait: bool) -> None:
        while len(self._active) < self.max_batch:
            try:
                handle = self._pending.get(block=wait)
            except queue.Empty:
                return
            wait = False
            if handle._cancelled.is_set():
                _finish(handle, "cancelled")
            else:
                self._guarded([handle], lambda: self._prefill(handle))

    def _guarded(self, handles: list[Generation], work: Callable[[], None]) -> None:
        """Run ``work``; an error ends the requests it concerns (others go on)."""
        try:
            with generating(self.lm), torch.inference_mode():
                work()
        except BaseException as exc:  # delivered to the requests' consumers
            for handle in list(handles):
                handle._error = exc
                _finish(handle, "error")
                if handle in self._active:
                    self._active.remove(handle)

    def _prefill(self, handle: Generation) -> None:
        model = self.lm.model
        ids = torch.tensor([handle.prompt_ids], device=model.device)
        # logits_to_keep=1 as generate() passes it: the head then sees one row (packed on CPU), not the prompt's
        out = model(input_ids=ids, cache=DynamicCache(config=model.config), use_cache=True, logits_to_keep=1)
        handle._cache = out.cache
        if handle.temperature > 0:
            handle._rng = torch.Generator().manual_seed(handle.seed)
        self._active.append(handle)
        self._take(handle, out.logits[0, -1])

    def _step(self) -> None:
        batch = list(self._active)
        if len(batch) == 1:  # alone: the lean batch-1 step (the same math, fewer Python-level operations)
            token = torch.tensor([[batch[0].tokens[-1]]], device=self.lm.model.device)
            logits = decode_step(self.lm.model, token, batch[0]._cache).logits[:, -1]
        else:
            logits = batched_step(self.lm.model, [h.tokens[-1] for h in batch], [h._cache for h in batch])
        self.steps += 1
        self.rows_stepped += len(batch)
        for row, handle in enumerate(batch):
            self._guarded([handle], lambda: self._take(handle, logits[row]))

    def _take(self, handle: Generation, logits: torch.Tensor) -> None:
        """Choose ``handle``'s next token from its logits row; stream it or end the request."""
        if handle._cancelled.is_set():
            return self._leave(handle, "cancelled")
        token = choose(handle, logits)
        if token in handle.stop_ids:
            return self._leave(handle, "stop")
        handle.tokens.append(token)
        handle._out.put(token)
        if len(handle.tokens) >= handle.max_new_tokens:
            self._leave(handle, "length")

    def _leave(self, handle: Generation, reason: str) -> None:
        self._active.remove(handle)
        handle._cache = None
        _finish(handle, reason)


def scheduler_for(lm: LoadedModel) -> BatchScheduler | None:
    """The scheduler ``lm``'s generations go through; ``None`` with ``TUTOR_BATCHING=0`` or a model it cannot
    step (those generate one at a time behind :data:`llm.loading.GENERATE_LOCK`)."""
    from llm.loading import GENERATE_LOCK
    from llm.settings import LLMSettings

    if GENERATE_LOCK._is_owned():  # a caller holding the lock would wait forever on the worker, which needs it
        return None
    return BatchScheduler.for_model(lm) if LLMSettings.from_env().batching else None


def _finish(handle: Generation, reason: str) -> None:
    handle.finish_reason = reason
    handle._out.put(_DONE)


def batchable(lm: LoadedModel) -> bool:
    """A Llama-family model on CPU (the step below mirrors :func:`llm.fast_decode.decode_step`)."""
    return str(lm.device).startswith("cpu") and supported(lm.model)


def choose(handle: Generation, logits: torch.Tensor) -> int:
    """The next token: processors on fp32 scores (as ``generate`` applies them), then argmax or top-p sampling."""
    scores = logits.float()[None]
    if handle.processors:
        ids = torch.tensor([handle.prompt_ids + handle.tokens], device=logits.device)
        for processor in handle.processors:
            scores = processor(ids, scores)
    if handle.temperature <= 0:
        return int(scores[0].argmax())
    probs = torch.softmax(scores[0] / handle.temperature, -1)
    ordered, order = probs.sort(descending=True)
    keep = ordered.cumsum(0) - ordered < handle.top_p  # the smallest head whose mass reaches top_p
    pick = torch.multinomial(ordered * keep, 1, generator=handle._rng)
    return int(order[pick])


# ------------------------------------------------------------------- the step


def batched_step(model, tokens: list[int], caches: list[DynamicCache]) -> torch.Tensor:
    """Logits ``[B, V]`` for one new token per sequence, each cache extended by its token (Llama math)."""
    body = model.model
    rows = len(tokens)
    hidden = body.embed_tokens(torch.tensor(tokens, device=model.device)[:, None])
    positions = torch.tensor([[cache.get_seq_length()] for cache in caches], device=hidden.device)
    cos, sin = body.rotary_emb(hidden, position_ids=positions)
    width = hidden.shape[-1:]
    for index, layer in enumerate(body.layers[: model.config.num_hidden_layers]):
        attn, mlp = layer.self_attn, layer.mlp
        norm = layer.input_layernorm
        x = F.rms_norm(hidden, width, norm.weight, norm.variance_epsilon)
        q, k, v = (y.view(rows, 1, -1, attn.head_dim).transpose(1, 2)
                   for y in _linears(x, attn.q_proj, attn.k_proj, attn.v_proj))
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        outs = []
        for row, cache in enumerate(caches):  # each sequence attends over its own cache, unpadded
            keys, values = cache.update(k[row:row + 1], v[row:row + 1], index)
            outs.append(F.scaled_dot_product_attention(q[row:row + 1], keys, values, scale=attn.scaling,
                                                       enable_gqa=True))
        out = torch.cat(outs).transpose(1, 2).reshape(rows, 1, -1)
        hidden = hidden + _linears(out, attn.o_proj)[0]
        norm = layer.post_attention_layernorm
        x = F.rms_norm(hidden, width, norm.weight, norm.variance_epsilon)
        gate, up = _linears(x, mlp.gate_proj, mlp.up_proj)
        hidden = hidden + _linears(F.silu(gate) * up, mlp.down_proj)[0]
    hidden = F.rms_norm(hidden, width, body.norm.weight, body.norm.variance_epsilon)
    return _linears(hidden, model.lm_head)[0][:, -1]


def _linears(x: torch.Tensor, *modules) -> list[torch.Tensor]:
    """Each module applied to ``x`` (rows = dim 0), packed modules in row chunks that keep results exact."""
    from llm.packed import PackedHead, PackedLinear

    first = modules[0]
    if isinstance(first, PackedLinear):
        chunk = min(EXACT_ROWS, first.max_rows)
    elif isinstance(first, PackedHead):
        chunk = first.max_rows
    else:
        return [module(x) for module in modules]
    parts = [x[i:i + chunk] for i in range(0, x.shape[0], chunk)]
    # Within a chunk the modules see the very same tensor, so a shared packed call (q/k/v, gate/up) runs once.
    outputs = [[module(part) for module in modules] for part in parts]
    return [torch.cat([row[i] for row in outputs]) for i in range(len(modules))]

"""Activation checkpointing of decoder layers, with the saved layer inputs offloaded to pinned CPU memory.

Forward runs a layer without building its graph and keeps only its input (batch x seq x hidden):
on the GPU (``offload=False``) or copied to pinned host memory on a side stream (``offload=True``),
so that GPU memory holds no activations of finished layers at all. Backward copies the input back
(the next layer down is prefetched while this one recomputes), reruns the layer with the autocast
state of the forward, and backpropagates through it.
"""

from __future__ import annotations

from typing import Callable

import torch

_SIDE_STREAMS: dict[int, "torch.cuda.Stream"] = {}
_ANCHOR: dict[str, torch.Tensor] = {}


def _side_stream(device: torch.device) -> "torch.cuda.Stream":
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _SIDE_STREAMS:
        _SIDE_STREAMS[index] = torch.cuda.Stream(device=index)
    return _SIDE_STREAMS[index]


def _anchor() -> torch.Tensor:
    """An empty tensor that requires grad: makes the checkpoint's output part of the graph even when the
    layer input does not require grad (the first layer's input is a frozen embedding's output)."""
    if "anchor" not in _ANCHOR:
        _ANCHOR["anchor"] = torch.empty(0, requires_grad=True)
    return _ANCHOR["anchor"]


class _Saved:
    """A layer input kept for backward; ``previous`` is the layer below, prefetched during this backward."""

    __slots__ = ("host", "device_copy", "ready", "previous", "device")

    def __init__(self, device: torch.device):
        self.host: torch.Tensor | None = None
        self.device_copy: torch.Tensor | None = None
        self.ready = None
        self.previous: _Saved | None = None
        self.device = device

    def offload(self, hidden: torch.Tensor) -> None:
        stream = _side_stream(hidden.device)
        stream.wait_stream(torch.cuda.current_stream(hidden.device))
        self.host = torch.empty(hidden.shape, dtype=hidden.dtype, device="cpu", pin_memory=True)
        with torch.cuda.stream(stream):
            self.host.copy_(hidden, non_blocking=True)
        hidden.record_stream(stream)  # its memory is not reused before the copy is done

    def prefetch(self) -> None:
        if self.host is None or self.device_copy is not None:
            return
        stream = _side_stream(self.device)
        with torch.cuda.stream(stream):
            self.device_copy = self.host.to(self.device, non_blocking=True)
            self.ready = torch.cuda.Event()
            self.ready.record(stream)

    def fetch(self) -> torch.Tensor:
        self.prefetch()
        torch.cuda.current_stream(self.device).wait_event(self.ready)
        hidden = self.device_copy
        hidden.record_stream(torch.cuda.current_stream(self.device))
        self.host = self.device_copy = None
        return hidden


_LAST: dict[str, _Saved | None] = {"saved": None}


class _Checkpoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, run: Callable, offload: bool, hidden: torch.Tensor, anchor: torch.Tensor):
        device = hidden.device
        ctx.run = run
        ctx.autocast = (torch.is_autocast_enabled(device.type), torch.get_autocast_dtype(device.type))
        with torch.no_grad():
            out = run(hidden)
        ctx.offloaded = offload and device.type == "cuda"
        if ctx.offloaded:
            saved = _Saved(device)
            saved.offload(hidden)
            previous = _LAST["saved"]
            saved.previous = previous if previous is not None and previous.host is not None else None
            _LAST["saved"] = saved
            ctx.saved = saved
        else:
            ctx.save_for_backward(hidden)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        if ctx.offloaded:
            saved = ctx.saved
            hidden = saved.fetch()
            if saved.previous is not None:
                saved.previous.prefetch()
            ctx.saved = None
        else:
            (hidden,) = ctx.saved_tensors
        need_input = ctx.needs_input_grad[2]
        hidden = hidden.detach().requires_grad_(need_input)
        enabled, dtype = ctx.autocast
        with torch.enable_grad(), torch.autocast(hidden.device.type, dtype=dtype, enabled=enabled):
            out = ctx.run(hidden)
        if out.requires_grad:
            torch.autograd.backward(out, grad_out)
        return None, None, hidden.grad if need_input else None, None


def checkpoint(run: Callable[[torch.Tensor], torch.Tensor], hidden: torch.Tensor, offload: bool) -> torch.Tensor:
    """``run(hidden)`` (a whole decoder layer), keeping only ``hidden`` for backward and recomputing the rest."""
    return _Checkpoint.apply(run, offload, hidden, _anchor())

"""A benchmark worker's side of the interleaving protocol (the driver's side: ``bench/interleave.py``).

A worker loads its stack once, prints ``{"ready": true, ...}``, then answers each JSON line on stdin
(one measurement request, with an ``id``) with one JSON line on stdout carrying the same ``id``; it
ends when stdin closes. Keeping both stacks loaded lets one call alternate them step block by step
block on the same card, so a slow phase of the host hits both alike (issue 16: batch-2 results swung
by up to 1.9x between calls). Pure standard library: importable under any stack's PYTHONPATH.
"""

from __future__ import annotations

import json
import sys
from typing import Callable, TextIO


def serve(measure: Callable[[dict], dict], ready: dict, stdin: TextIO | None = None,
          stdout: TextIO | None = None) -> int:
    """Answer requests until stdin closes; returns how many were answered.

    A request that raises (out of memory, say) is answered with ``{"error": ...}`` and the loop goes on.
    """
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    print(json.dumps({"ready": True, **ready}), file=stdout, flush=True)
    answered = 0
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as exc:
            print(json.dumps({"error": f"bad request: {exc}"}), file=stdout, flush=True)
            continue
        try:
            result = measure(request)
        except Exception as exc:  # report and keep serving: one failed lever must not end the run
            result = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        print(json.dumps({"id": request.get("id"), **result}), file=stdout, flush=True)
        answered += 1
    return answered

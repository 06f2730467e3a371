"""Every prompt the tutor sends to a model (pure: builds chat messages; no model I/O, no torch).

Below both :mod:`agent` and :mod:`finetune`, so the tutor adapter is trained on exactly the
prompts it sees at run time and every import points down. One module per model job:

    prompts/tutor.py    system prompt, question writing (free strategy), the eval key re-check
    prompts/explain.py  answering a student's question from the retrieved facts
    prompts/turns.py    reading a student's chat turn into a schemas.TurnRequest

Bump :data:`schemas.PROMPT_VERSION` when changing them.
"""

from prompts.tutor import SYSTEM, Messages

__all__ = ["Messages", "SYSTEM"]

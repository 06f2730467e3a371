"""The explanation prompt: answer the student's question from the facts retrieved for it (pure).

The runtime (:mod:`agent.explain`) and the training rows (:mod:`finetune.explain_data`) both
render it, so the adapter is trained on exactly what it sees. Facts come numbered, best first;
the answer should start with the answer and stay within them.
"""

from __future__ import annotations

from collections.abc import Sequence

from prompts.tutor import SYSTEM, Messages

EXPLAIN_PROMPT_VERSION = "explain-v2"
MAX_FACT_CHARS = 400


def explain_messages(question: str, facts: Sequence[str], concept: str | None = None) -> Messages:
    """Answer ``question`` in two or three sentences, starting with the answer, using only ``facts``."""
    listed = "\n".join(f"{i}. {fact[:MAX_FACT_CHARS]}" for i, fact in enumerate(facts, start=1))
    notes = listed or "(no facts found)"
    about = f"Concept: {concept}\n" if concept else ""
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": f"{about}Facts:\n{notes}\n\nStudent question: {question[:500]}\n\n"
            "Answer the question in two or three short sentences. Start with the answer. Use only the facts.",
        },
    ]

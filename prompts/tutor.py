"""The tutor's system prompt and the prompts of its quiz jobs (pure; explanations: :mod:`prompts.explain`).

The fine-tuning data builder imports the same functions, so the tutor adapter is trained on
exactly the prompts it will see at run time.
"""

from __future__ import annotations

from collections.abc import Sequence

SYSTEM = (
    "You are a patient teaching assistant for an introductory machine-learning course. "
    "You answer accurately and briefly, in plain language, using only the reference notes you are given."
)

Messages = list[dict[str, str]]


def _numbered(items: Sequence[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


def write_question_messages(concept: str, fact: str) -> Messages:
    """Ask the model to write a question about ``fact`` in the generation schema (free strategy)."""
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": f"Concept: {concept}\nFact: {fact}\n\n"
            "Write one multiple-choice quiz question that tests this fact. Give the question, the correct "
            "answer (short, supported by the fact), three wrong but plausible answers, and a one-sentence "
            "explanation. Do not mention the answer in the question.",
        },
    ]


def answer_with_fact_messages(fact: str, question: str, options: Sequence[str]) -> Messages:
    """Re-answer a question given only its source fact (``tutor eval quiz --recheck``; no longer in the quiz path)."""
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": f"Fact: {fact}\n\nQuestion: {question}\nOptions:\n{_numbered(options)}\n\n"
            "Using the fact, which option is correct? Answer with its number.",
        },
    ]

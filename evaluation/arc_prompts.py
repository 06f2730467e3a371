"""Prompts for ARC-style evaluation (pure: strings and chat messages, no model I/O).

``loglik`` mode follows lm-evaluation-harness' ``arc_easy``/``arc_challenge`` tasks: the context is
``"Question: {question}\\nAnswer:"`` and each choice is scored as the continuation
``" {choice text}"``. With K shots, K solved examples come first, each
``"Question: {q}\\nAnswer: {correct text}"``, separated by a blank line.

``letter`` mode lists the options and asks for the label::

    Question: Which gas do plants absorb?
    A. oxygen
    B. carbon dioxide
    Answer:

Without the chat template the model continues that text with the label (``" B"``, a space then
the label, as written in the shots). With the chat template the same block is the user turn,
plus an instruction to answer with the label only; shots become earlier user/assistant turns
and the assistant's turn is the bare label (``"B"``).

Bump :data:`PROMPT_VERSION` when changing any of these strings; it is recorded in results.json.
"""

from __future__ import annotations

from collections.abc import Sequence

from evaluation.arc_data import ArcItem

PROMPT_VERSION = "arc-prompts-v1"
Messages = list[dict[str, str]]


# ----------------------------------------------------------------------------- loglik


def loglik_context(item: ArcItem, shots: Sequence[ArcItem] = ()) -> str:
    """The context every choice of ``item`` is scored after (lm-eval ARC convention)."""
    examples = [f"Question: {s.question}\nAnswer: {s.choices[s.answer_index]}" for s in shots]
    return "\n\n".join([*examples, f"Question: {item.question}\nAnswer:"])


def loglik_continuations(item: ArcItem) -> list[str]:
    """One continuation per choice: a space, then the choice text."""
    return [f" {text}" for text in item.choices]


# ----------------------------------------------------------------------------- letter


def options_block(item: ArcItem) -> str:
    """``Question: ...`` followed by one ``LABEL. text`` line per choice."""
    lines = [f"Question: {item.question}"]
    lines += [f"{label}. {text}" for label, text in zip(item.labels, item.choices)]
    return "\n".join(lines)


def letter_plain_prompt(item: ArcItem, shots: Sequence[ArcItem] = ()) -> str:
    """Plain-text letter prompt (no chat template); the model continues with ``" LABEL"``."""
    examples = [f"{options_block(s)}\nAnswer: {s.answer}" for s in shots]
    return "\n\n".join([*examples, f"{options_block(item)}\nAnswer:"])


def plain_answer(label: str) -> str:
    """How a label is written after ``Answer:`` in the plain prompt (the constrained output)."""
    return f" {label}"


def instruction(item: ArcItem) -> str:
    kind = "number" if all(label.isdigit() for label in item.labels) else "letter"
    return f"Answer with the {kind} of the correct option only."


def letter_messages(item: ArcItem, shots: Sequence[ArcItem] = ()) -> Messages:
    """Chat messages for the letter prompt (the model's template is applied by the caller)."""
    messages: Messages = []
    for shot in shots:
        messages.append({"role": "user", "content": f"{options_block(shot)}\n\n{instruction(shot)}"})
        messages.append({"role": "assistant", "content": shot.answer})
    messages.append({"role": "user", "content": f"{options_block(item)}\n\n{instruction(item)}"})
    return messages

"""Normalise training rows to one shape: a list of ``{"role", "content"}`` messages.

Accepted row formats (detected per row with ``fmt="auto"``):

* ShareGPT, as in ``mlabonne/FineTome-100k``: ``{"conversations": [{"from": "human"|"gpt"|"system",
  "value": str}, ...]}``;
* messages (OpenAI/TRL conversational): ``{"messages": [{"role": "user"|"assistant"|"system",
  "content": str}, ...]}``;
* prompt/completion (TRL): ``{"prompt": str, "completion": str}``, or both as message lists.

A conversation is kept when every turn has a known role and non-empty text, a system turn comes
only first, the first other turn is the user's, and at least one assistant turn follows. Trailing
user turns (nothing to learn from) are dropped. Anything else raises :class:`MalformedRow` with a
short reason; callers count the reasons (reported in ``metrics.json``) instead of failing the run.
Pure Python: no torch, no tokenizer.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Literal

Format = Literal["auto", "sharegpt", "messages", "prompt_completion"]
Message = dict[str, str]

# ShareGPT speaker names seen in public datasets, mapped to chat-template roles.
SHAREGPT_ROLES = {
    "human": "user", "user": "user",
    "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant", "bard": "assistant", "model": "assistant",
    "system": "system",
}
ROLES = ("system", "user", "assistant")


class MalformedRow(ValueError):
    """A row that cannot become a training conversation; ``reason`` is a short, countable key."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def detect_format(row: Any) -> str:
    if not isinstance(row, dict):
        raise MalformedRow("not_a_mapping", type(row).__name__)
    if "conversations" in row:
        return "sharegpt"
    if "messages" in row:
        return "messages"
    if "prompt" in row and "completion" in row:
        return "prompt_completion"
    raise MalformedRow("unknown_format", f"keys {sorted(row)[:6]}")


def normalise_row(row: Any, fmt: Format = "auto") -> list[Message]:
    """The row as a validated message list (see the module docstring for the rules)."""
    kind = detect_format(row) if fmt == "auto" else fmt
    if not isinstance(row, dict):
        raise MalformedRow("not_a_mapping", type(row).__name__)
    if kind == "sharegpt":
        messages = _from_sharegpt(row.get("conversations"))
    elif kind == "messages":
        messages = _from_messages(row.get("messages"))
    elif kind == "prompt_completion":
        messages = _from_prompt_completion(row.get("prompt"), row.get("completion"))
    else:
        raise ValueError(f"unknown dataset format {fmt!r}")
    return validate_conversation(messages)


def _turns(value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise MalformedRow("not_a_list", "expected a non-empty list of turns")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise MalformedRow("non_text_content", type(value).__name__)
    if not value.strip():
        raise MalformedRow("empty_content")
    return value


def _from_sharegpt(turns: Any) -> list[Message]:
    messages = []
    for turn in _turns(turns):
        if not isinstance(turn, dict) or "from" not in turn or "value" not in turn:
            raise MalformedRow("bad_turn", "ShareGPT turns need 'from' and 'value'")
        role = SHAREGPT_ROLES.get(str(turn["from"]).strip().lower())
        if role is None:
            raise MalformedRow("unknown_role", str(turn["from"]))
        messages.append({"role": role, "content": _text(turn["value"])})
    return messages


def _from_messages(turns: Any) -> list[Message]:
    messages = []
    for turn in _turns(turns):
        if not isinstance(turn, dict) or "role" not in turn or "content" not in turn:
            raise MalformedRow("bad_turn", "messages need 'role' and 'content'")
        role = str(turn["role"]).strip().lower()
        if role not in ROLES:
            raise MalformedRow("unknown_role", role)
        messages.append({"role": role, "content": _text(turn["content"])})
    return messages


def _from_prompt_completion(prompt: Any, completion: Any) -> list[Message]:
    if isinstance(prompt, str) and isinstance(completion, str):
        return [{"role": "user", "content": _text(prompt)}, {"role": "assistant", "content": _text(completion)}]
    if isinstance(prompt, list) and isinstance(completion, list):
        return _from_messages(prompt) + _from_messages(completion)
    raise MalformedRow("bad_prompt_completion", "prompt and completion must both be strings or both message lists")


def validate_conversation(messages: list[Message]) -> list[Message]:
    """Check the turn order and drop trailing user turns; raise :class:`MalformedRow` otherwise."""
    for index, message in enumerate(messages):
        if message["role"] == "system" and index != 0:
            raise MalformedRow("misplaced_system", f"system turn at position {index}")
    body = messages[1:] if messages and messages[0]["role"] == "system" else messages
    if not body or body[0]["role"] != "user":
        raise MalformedRow("must_start_with_user")
    while messages and messages[-1]["role"] != "assistant":
        messages = messages[:-1]
    if not any(m["role"] == "assistant" for m in messages):
        raise MalformedRow("no_assistant_turn")
    return messages


def normalise_rows(rows: Iterable[Any], fmt: Format = "auto") -> tuple[list[list[Message]], Counter, Counter]:
    """Normalise many rows: ``(conversations, skipped reasons, formats seen)``."""
    conversations: list[list[Message]] = []
    skipped: Counter = Counter()
    formats: Counter = Counter()
    for row in rows:
        try:
            kind = detect_format(row) if fmt == "auto" else fmt
            conversations.append(normalise_row(row, kind))
            formats[kind] += 1
        except MalformedRow as exc:
            skipped[exc.reason] += 1
    return conversations, skipped, formats

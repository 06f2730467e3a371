"""Token ids and labels for one conversation, with loss on assistant tokens only.

Why not TRL's ``assistant_only_loss``: it needs a chat template with ``{% generation %}`` markers,
and SmolLM2's (like most) has none. Instead the span of every assistant reply is found in the
rendered text by rendering prefixes of the conversation with the model's own template:

    start of reply i = len(render(messages[:i], add_generation_prompt=True))
    end of reply i   = len(render(messages[:i + 1]))

which works for any template that renders a conversation as a prefix-extension of its earlier
turns (ChatML, Llama 3, ...). The full text is tokenised once, and a token is a target exactly when
its first character falls inside a reply span (so the reply's end-of-turn token, e.g.
``<|im_end|>``, is learned: the model learns to stop). Everything else -- system prompt, user turns,
the ``<|im_start|>assistant`` header -- gets label ``-100``.

If a template rewrites earlier turns (some "thinking" templates drop old reasoning), the prefix
check fails and only the last reply is trained, TRL's prompt/completion view: the prompt is every
turn before the last assistant turn, rendered exactly as at inference (``add_generation_prompt``),
followed by the reply as the template renders an assistant turn. A row where even that fails is
skipped as ``template_not_prefix_stable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from finetune.formats import MalformedRow, Message

IGNORE_INDEX = -100
Render = Callable[[Sequence[Message], bool], str]  # (messages, add_generation_prompt) -> text


@dataclass
class TokenizedConversation:
    input_ids: list[int]
    labels: list[int]
    last_turn_only: bool  # fell back to the last reply (template not prefix-stable for earlier ones)

    @property
    def n_target_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def assistant_spans(messages: Sequence[Message], render: Render, turns: str = "all") -> tuple[str, list, bool]:
    """``(text, [(start, end), ...] character spans of assistant replies, fell_back_to_last)``."""
    text = render(messages, False)
    indices = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    if not indices:
        raise MalformedRow("no_assistant_turn")
    if turns == "last":
        indices = indices[-1:]
    spans = []
    for i in indices:
        prompt, through = render(messages[:i], True), render(messages[: i + 1], False)
        if not (text.startswith(prompt) and text.startswith(through)) or len(through) <= len(prompt):
            spans = None
            break
        spans.append((len(prompt), len(through)))
    if spans is not None:
        return text, spans, False
    # Fallback: the inference prompt for the last reply, followed by that reply as the template
    # renders an assistant turn (measured on a one-turn probe conversation).
    last = indices[-1]
    prompt = render(messages[:last], True)
    probe = [{"role": "user", "content": "?"}, messages[last]]
    head, whole = render(probe[:1], True), render(probe, False)
    if not whole.startswith(head) or len(whole) <= len(head):
        raise MalformedRow("template_not_prefix_stable")
    text = prompt + whole[len(head):]
    return text, [(len(prompt), len(text))], True


def label_tokens(offsets: Sequence[tuple[int, int]], input_ids: Sequence[int], spans: Sequence[tuple[int, int]]) -> list:
    """Labels: the token id where the token starts inside a span, else ``IGNORE_INDEX``."""
    labels = []
    for token_id, (start, _end) in zip(input_ids, offsets):
        inside = any(a <= start < b for a, b in spans)
        labels.append(token_id if inside else IGNORE_INDEX)
    return labels


def chat_renderer(tokenizer: Any) -> Render:
    """A :data:`Render` using the tokenizer's own chat template."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("the tokenizer has no chat template; fine-tuning conversations needs one")

    def render(messages: Sequence[Message], add_generation_prompt: bool) -> str:
        return tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=add_generation_prompt
        )

    return render


def tokenize_conversation(
    messages: Sequence[Message], tokenizer: Any, max_length: int, turns: str = "all", render: Render | None = None
) -> TokenizedConversation:
    """Tokenise ``messages`` with the chat template; labels mask everything but assistant replies.

    Sequences longer than ``max_length`` are cut at the end; a row left without any target token
    raises :class:`MalformedRow` (``no_target_within_max_length``).
    """
    text, spans, fell_back = assistant_spans(messages, render or chat_renderer(tokenizer), turns)
    # The template already writes any BOS token, so the tokenizer must not add another one.
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    input_ids = list(encoded["input_ids"])[:max_length]
    offsets = list(encoded["offset_mapping"])[:max_length]
    labels = label_tokens(offsets, input_ids, spans)
    result = TokenizedConversation(input_ids, labels, fell_back)
    if result.n_target_tokens == 0:
        raise MalformedRow("no_target_within_max_length")
    return result

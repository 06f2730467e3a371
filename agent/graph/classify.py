"""Free-text intent classification by the model, constrained to ``Literal["explain", "quiz", "answer", "other"]``.

The model can only answer with one of the four words (Outlines builds the grammar once per
process), so nothing it writes is parsed. Commands, buttons and lone letters never get here
(see :mod:`agent.graph.routing`).
"""

from __future__ import annotations

from typing import Literal

from agent.graph.routing import Classifier
from prompts.tutor import classify_messages

IntentWord = Literal["explain", "quiz", "answer", "other"]


def model_classifier(service) -> Classifier | None:
    """A blocking ``text -> intent`` function using ``service``'s model, or None when it has no model."""
    runtime = getattr(service, "runtime", None)
    if runtime is None:
        return None

    def classify(text: str) -> str:
        return runtime.generate_text(IntentWord, runtime.chat(classify_messages(text)), max_new_tokens=4)

    return classify

"""The turn reader: the model reads every free-text turn under Outlines; rules are the guard rails.

The model answers one short line (:func:`prompts.turns.reading_pattern`: intent, a topic copied from
the message, and only the details said), so a turn costs a handful of decode steps. The grammar is
built per message and admits only the message's own spans, so the topic is always the student's own
words (and code checks it again for served models).

How the two combine (mode ``both``, the default with a model):

* the rules decide outright where they are sure (``RuleReading.strong``): junk or injection-looking
  input (help), a letter answer while a question waits, a one-word command ("retry", "export");
* where a question waits and the rules matched an option (by its words or position), that answer stands;
* a model "help" yields to the rules' explain/quiz request with a topic (help is the model's reading of
  unclear input; on the dev set it read "how do I choose the number of clusters?" as help);
* otherwise the model's intent stands, except that ``answer`` with no question waiting is not possible;
* the letter of an answer is the rules' (written letter, ordinal, words matched against the options)
  when they find one, else the model's; count and difficulty are the rules' (a model value is kept
  only if the number or difficulty word is in the message: nothing is predicted that was not said);
* the topic is the model's span, or the rules' span when the model gave none usable.

Modes: ``rules`` (no model), ``model`` (model alone; rules only when its call fails), ``both``. In the model
modes at most :data:`MAX_MODEL_READS` turns are read by the model at once; the rest are read by the rules.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from agent.turns import cues
from llm.priority import model_pool
from agent.turns.rules import PRONOUNS, RuleReading, find_count, find_difficulty, find_letter, find_topic, read_rules
from prompts.turns import MAX_READING_TOKENS, TurnReading, clean_text, message_spans, reading_pattern, turn_messages
from schemas.turn import TurnRequest

log = logging.getLogger(__name__)
MODES = ("rules", "model", "both")
# Model readings in flight at once; a turn beyond them is read by the rules alone. When every turn of 20 students
# asking at once went to the model, their first questions queued behind it for many seconds; with this cap and the
# model's threads at a lower priority (llm.priority) the 20- and 50-student rows of the README's load benchmarks
# (bench/results/socket*/load_sessions.json) meet the first-question targets: under load the tutor degrades to the rules.
MAX_MODEL_READS = 2
_FALLBACK = TurnRequest(intent="help")


def reading_type(text: str) -> Any:
    """The Outlines output type of the reader for one message: the answer line's regular expression."""
    from outlines.types import Regex

    return Regex(reading_pattern(text))


class Reader:
    """A :class:`agent.turns.TurnReader` in one of :data:`MODES`; counts model failures (``failures``)."""

    def __init__(self, runtime: Any = None, mode: str | None = None):
        mode = mode or ("both" if runtime is not None else "rules")
        if mode not in MODES:
            raise ValueError(f"reader mode must be one of {', '.join(MODES)}, not {mode!r}")
        if mode != "rules" and runtime is None:
            raise ValueError(f"reader mode {mode!r} needs a model (no runtime given)")
        self.runtime = runtime
        self.mode = mode
        self.failures = 0
        self.busy = 0  # turns read by the rules because MAX_MODEL_READS were in flight
        self._slots = threading.BoundedSemaphore(MAX_MODEL_READS)
        self._pool = model_pool(MAX_MODEL_READS, "turn-reader") if runtime is not None else None

    def __call__(self, text: str, options: Sequence[str] | None = None) -> TurnRequest:
        options = list(options) if options else None
        try:
            rules = read_rules(text, options)
        except Exception:  # the rules are pure and tested; a failure here must still not reach the student
            log.exception("turn rules failed")
            return _FALLBACK
        if self.mode == "rules" or (self.mode == "both" and rules.strong):
            return rules.request  # where the rules are sure, the model's answer could not change the result
        if not self._slots.acquire(blocking=False):
            self.busy += 1
            return rules.request
        try:  # on a thread at the model's lower priority: the app's quiz turns go first (llm.priority)
            reading = self._pool.submit(self.read_model, text, options).result()
        finally:
            self._slots.release()
        if reading is None:
            return rules.request
        try:
            if self.mode == "model":
                return model_request(reading, text, options)
            return combine(reading, rules, text, options)
        except Exception:
            log.exception("turn reading could not be combined")
            return rules.request

    def read_model(self, text: str, options: Sequence[str] | None) -> TurnReading | None:
        """The model's reading of the turn, or None when its output is unusable."""
        try:
            prompt = self.runtime.chat(turn_messages(text, options))
            line = self._generate(prompt, text)
            return TurnReading.parse(line)
        except Exception as exc:
            self.failures += 1
            log.warning("model turn reading failed (%s); using the rules", str(exc)[:120])
            return None


    def _generate(self, prompt: str, text: str) -> str:
        """The answer line: in-process runtimes decode it with their ``decode_pattern`` (the greedy top-k regex check
        of :mod:`llm.pattern_decode`: Outlines' index loses this grammar's optional fields for SmolLM2's tokenizer,
        see there); a served model gets the pattern as the server's structured output."""
        decode = getattr(self.runtime, "decode_pattern", None)
        if decode is not None:
            return decode(reading_pattern(text), prompt, max_new_tokens=MAX_READING_TOKENS)
        return self.runtime.generate_text(reading_type(text), prompt, max_new_tokens=MAX_READING_TOKENS)


def make_reader(runtime: Any = None, mode: str | None = None) -> Reader:
    return Reader(runtime, mode)


def model_topic(reading: TurnReading, text: str) -> str | None:
    """The reading's topic if it is a span of ``text`` (always, under the grammar; a check for served models)."""
    if reading.topic is None or reading.topic not in message_spans(text):
        return None
    return reading.topic


def model_request(reading: TurnReading, text: str, options: Sequence[str] | None) -> TurnRequest:
    """The model's reading as a request, unchanged except that the topic is cut from the message."""
    return TurnRequest(
        intent=reading.intent, topic=model_topic(reading, text), same_topic=reading.same_topic,
        source=reading.source, questions=reading.questions, difficulty=reading.difficulty, letter=reading.letter,
    )


def combine(reading: TurnReading, rules: RuleReading, text: str, options: Sequence[str] | None) -> TurnRequest:
    """The model's reading with the rules as guard rails (see the module docstring)."""
    if rules.strong:
        return rules.request
    intent = reading.intent
    if options and rules.request.intent == "answer" and rules.request.letter:
        return rules.request  # the rules matched an option's own words (dev set: "momentum", "Adam" read as help)
    if intent == "help" and rules.request.intent in ("explain", "quiz") and rules.request.topic:
        return rules.request  # "help" is the model's answer for unclear input; the rules found a request and a topic
    if intent == "answer" and not options:
        intent = rules.request.intent if rules.request.intent != "answer" else "help"
    fields: dict = {"intent": intent}
    cleaned = clean_text(text)
    if intent == "answer":
        fields["letter"] = find_letter(cleaned, options) or reading.letter
    if intent in ("quiz", "explain"):
        same = intent == "quiz" and (reading.same_topic or rules.request.same_topic)
        topic = _without_details(model_topic(reading, text), rules.request.topic)
        if topic is None or topic.lower() in PRONOUNS:
            topic = rules.request.topic if rules.request.intent == intent else find_topic(cleaned, intent)
        fields["topic"] = None if same and rules.request.same_topic else topic
        fields["same_topic"] = same and fields["topic"] is None
    if intent == "quiz":
        fields["questions"] = find_count(cleaned) or _said_count(reading.questions, cleaned)
        fields["difficulty"] = rules.request.difficulty or _said_difficulty(reading.difficulty, cleaned)
        fields["source"] = rules.request.source if rules.request.source != "any" else reading.source
    return TurnRequest(**fields)


def _without_details(topic: str | None, rules_topic: str | None) -> str | None:
    """The model's topic, or the rules' when the model's only adds a count or difficulty to it ("k-means
    clustering with 3 questions": the 20-student load bench found the model copying such spans)."""
    if not topic or not rules_topic or rules_topic == topic or rules_topic.lower() not in topic.lower():
        return topic
    extra = topic.lower().replace(rules_topic.lower(), " ")
    return rules_topic if find_count(extra) or find_difficulty(extra) else topic


def _said_count(value: int | None, cleaned: str) -> int | None:
    if value is None:
        return None
    words = {w.strip(".,;:!?()").lower() for w in cleaned.split()}
    names = {name for name, number in cues.NUMBER_WORDS.items() if number == value}
    return value if str(value) in words or names & words else None


def _said_difficulty(value: str | None, cleaned: str) -> str | None:
    if value is None:
        return None
    words = {w.strip(".,;:!?()").lower() for w in cleaned.split()}
    return value if any(cues.DIFFICULTY_WORDS.get(w) == value for w in words) else None

"""Write one question for one planned fact, by one of two strategies behind one interface.

* ``template`` (default for the embedded 135M model, which cannot phrase stems): the question
  forms and distractors written into the card; the model picks the form (constrained choice),
  code picks three distractors with the seed and places the key.
* ``free`` (for the tutor adapter or a larger model): the model writes a :class:`QuestionDraft`
  from the fact; it is used only if it passes :mod:`agent.quiz.checks`, else the template
  strategy answers for that fact.

Every candidate then goes through key verification: the source fact must support the key
lexically, or the model - shown only the fact - must pick the key among the options. A
candidate that fails is retried with another seed (bounded), then the fact is replaced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pydantic import ValidationError

from prompts.tutor import answer_with_fact_messages, pick_question_messages, write_question_messages
from agent.quiz.assemble import build_question
from agent.quiz.checks import distractor_problems, lexical_support, stem_problems
from agent.quiz.choosers import Chooser
from knowledge.base import KnowledgeBase
from knowledge.cloze import note_fact
from schemas import LETTERS, MultipleChoiceQuestion, PlanItem, QuestionDraft
from schemas.knowledge import ConceptCard, Fact

ATTEMPTS = 3


@dataclass
class Written:
    """A question and how it was made (for metadata and evaluation)."""

    question: MultipleChoiceQuestion
    strategy: str
    verified_by: str  # "lexical", "model" or "" (not verified)
    attempts: int


class QuestionWriter:
    """Turns plan items into verified questions."""

    def __init__(self, kb: KnowledgeBase, chooser: Chooser, runtime=None, strategy: str = "template"):
        self.kb = kb
        self.chooser = chooser
        self.runtime = runtime  # a StructuredRuntime, needed by the free strategy
        self.strategy = strategy

    def fact_of(self, item: PlanItem) -> tuple[ConceptCard, Fact]:
        if item.source.startswith("note:"):  # a cloze sentence of the student's notes, as a fact
            return note_fact(self.kb, item.source, item.fact)
        card = self.kb.card(item.source.removeprefix("card:"))
        return card, card.facts[item.fact]

    def write(self, item: PlanItem, letter: str, seed: int) -> Written | None:
        """A verified question for ``item`` with its key at ``letter``, or None after the bounded retries."""
        card, fact = self.fact_of(item)
        for attempt in range(ATTEMPTS):
            attempt_seed = seed * 1000 + attempt
            draft = None
            if self.strategy in ("free", "mixed") and self.runtime is not None:
                draft = self._free_draft(card, fact, attempt_seed)
            strategy = "free" if draft else "template"
            if draft is None:
                draft = self._template_draft(card, fact, attempt_seed)
            stem, correct, distractors = draft
            try:
                question = build_question(
                    stem=stem,
                    correct=correct,
                    distractors=distractors,
                    letter=letter,
                    seed=attempt_seed,
                    explanation=fact.statement,
                    concept=card.title,
                    source=item.source,
                    fact_id=fact.id,
                )
            except ValidationError:
                continue
            verified_by = self._verify(fact.statement, question, attempt_seed)
            if verified_by:
                return Written(question, strategy, verified_by, attempt + 1)
        return None

    # ------------------------------------------------------------------ strategies

    def _template_draft(self, card: ConceptCard, fact: Fact, seed: int) -> tuple[str, str, list[str]]:
        forms = list(fact.questions)
        random.Random(f"forms:{seed}").shuffle(forms)  # the seed varies which forms the model sees first
        choice = self.chooser.pick(pick_question_messages(card.title, fact.statement, forms), len(forms), seed)
        distractors = random.Random(f"distractors:{seed}").sample(list(fact.distractors), 3)
        return forms[choice], fact.answer, distractors

    def _free_draft(self, card: ConceptCard, fact: Fact, seed: int) -> tuple[str, str, list[str]] | None:
        from llm.structured import StructuredOutputError

        prompt = self.runtime.chat(write_question_messages(card.title, fact.statement))
        try:
            draft = self.runtime.generate(QuestionDraft, prompt, seed=seed, max_new_tokens=320, temperature=0.7)
        except StructuredOutputError:
            return None
        if stem_problems(draft.question, draft.correct_answer, fact.statement, card.title):
            return None
        if distractor_problems(draft.correct_answer, list(draft.distractors), draft.question):
            return None
        if not lexical_support(fact.statement, draft.correct_answer, list(draft.distractors)).verified:
            return None
        return draft.question, draft.correct_answer, list(draft.distractors)

    # ---------------------------------------------------------------- verification

    def _verify(self, fact: str, question: MultipleChoiceQuestion, seed: int) -> str:
        """How the key was verified ("lexical" / "model"), or "" if neither check agrees with it."""
        key = LETTERS.index(question.answer)
        others = [o for i, o in enumerate(question.options) if i != key]
        if lexical_support(fact, question.options[key], others).verified:
            return "lexical"
        if self.runtime is not None:
            # Asked twice, options in opposite orders: a model that favours a position (SmolLM2 tends to
            # answer "1") cannot verify a key by position alone; both answers must name the key.
            order = list(range(4))
            for options in (order, order[::-1]):
                messages = answer_with_fact_messages(fact, question.question, [question.options[i] for i in options])
                if options[self.chooser.pick(messages, 4, seed)] != key:
                    return ""
            return "model"
        return ""

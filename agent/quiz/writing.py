"""Write one question for one planned fact, by one of two strategies behind one interface.

* ``template`` (default for the embedded 135M model, which cannot phrase stems): a question
  form and three distractors written into the card, picked with the seed; code places the key.
  No model call: the model's form pick chose form 1 in 14 of 14 held-out facts and re-checking the
  key with it gained nothing (``bench/results/quiz_ablation.json``), so template questions never wait for it.
* ``free`` (for a larger model, ``--strategy free``): the model writes a :class:`QuestionDraft`
  from the fact; it is used only if it passes :mod:`agent.quiz.checks`, else the template
  strategy answers for that fact. ``mixed`` is the same per fact (the quiz's label then says
  which strategy each question came from).

Every candidate then goes through key verification in code: the source fact must support the key
lexically. A candidate that fails is retried with another seed (bounded), then the fact is replaced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pydantic import ValidationError

from prompts.tutor import write_question_messages
from agent.quiz.assemble import build_question
from agent.quiz.checks import distractor_problems, lexical_support, stem_problems
from knowledge.base import KnowledgeBase
from knowledge.cloze import note_fact
from schemas import LETTERS, MultipleChoiceQuestion, PlanItem, QuestionDraft
from schemas.knowledge import Fact

ATTEMPTS = 3


@dataclass
class Written:
    """A question and how it was made (for metadata and evaluation)."""

    question: MultipleChoiceQuestion
    strategy: str
    verified_by: str  # "lexical" (the only check left), or "" (not verified)
    attempts: int


class QuestionWriter:
    """Turns plan items into verified questions."""

    def __init__(self, kb: KnowledgeBase, runtime=None, strategy: str = "template"):
        self.kb = kb
        self.runtime = runtime  # a StructuredRuntime, needed by the free strategy
        self.strategy = strategy

    def fact_of(self, item: PlanItem) -> tuple[str, Fact]:
        """(the concept's title, the fact) of a plan item."""
        if item.source.startswith("note:"):  # a sentence of the student's notes, as a fact
            return note_fact(self.kb, item.source, item.fact)
        card = self.kb.card(item.source.removeprefix("card:"))
        return card.title, card.facts[item.fact]

    def write(self, item: PlanItem, letter: str, seed: int) -> Written | None:
        """A verified question for ``item`` with its key at ``letter``, or None after the bounded retries."""
        concept, fact = self.fact_of(item)
        for attempt in range(ATTEMPTS):
            attempt_seed = seed * 1000 + attempt
            draft = None
            if self.strategy in ("free", "mixed") and self.runtime is not None:
                draft = self._free_draft(concept, fact, attempt_seed)
            strategy = "free" if draft else "template"
            if draft is None:
                draft = self._template_draft(fact, attempt_seed)
            stem, correct, distractors = draft
            try:
                question = build_question(
                    stem=stem,
                    correct=correct,
                    distractors=distractors,
                    letter=letter,
                    seed=attempt_seed,
                    explanation=fact.statement,
                    concept=concept,
                    source=item.source,
                    fact_id=fact.id,
                )
            except ValidationError:
                continue
            verified_by = verify_key(fact.statement, question)
            if verified_by:
                return Written(question, strategy, verified_by, attempt + 1)
        return None

    # ------------------------------------------------------------------ strategies

    def _template_draft(self, fact: Fact, seed: int) -> tuple[str, str, list[str]]:
        form = random.Random(f"forms:{seed}").choice(list(fact.questions))  # the seed varies the form
        distractors = random.Random(f"distractors:{seed}").sample(list(fact.distractors), 3)
        return form, fact.answer, distractors

    def _free_draft(self, concept: str, fact: Fact, seed: int) -> tuple[str, str, list[str]] | None:
        from llm.structured import StructuredOutputError

        prompt = self.runtime.chat(write_question_messages(concept, fact.statement))
        try:
            draft = self.runtime.generate(QuestionDraft, prompt, seed=seed, max_new_tokens=320, temperature=0.7)
        except StructuredOutputError:
            return None
        if stem_problems(draft.question, draft.correct_answer, fact.statement, concept):
            return None
        if distractor_problems(draft.correct_answer, list(draft.distractors), draft.question):
            return None
        if not lexical_support(fact.statement, draft.correct_answer, list(draft.distractors)).verified:
            return None
        return draft.question, draft.correct_answer, list(draft.distractors)


def verify_key(fact: str, question: MultipleChoiceQuestion) -> str:
    """"lexical" when the source fact states the key (and no distractor as well), else "".

    The model re-check that used to back this up (the model, shown the fact, picks the key in two
    option orders) is gone: SmolLM2-135M with the tutor adapter answered "1" in 568 of 632 prompts and
    rejected 98.8% of correctly keyed and of mis-keyed held-out questions alike; with it the path detected
    98.8% of mis-keyed questions, without it 100% (bench/results/quiz_ablation.json).
    """
    key = LETTERS.index(question.answer)
    others = [o for i, o in enumerate(question.options) if i != key]
    return "lexical" if lexical_support(fact, question.options[key], others).verified else ""

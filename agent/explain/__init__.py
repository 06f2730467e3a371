"""Explanations that answer the question asked: the facts that answer it, then a short answer.

    sentences.py   streamed text -> complete sentences only (pure; the answer never stops mid-sentence)
    explainer.py   Explainer: rank facts (knowledge.facts), answer from them (model or extractive), stream

    from agent.explain import Explainer
    stream = Explainer(kb, lm, runtime).explain("How do I pick k in k-means?", topic="k-means")
"""

from agent.explain.explainer import ExplanationStream, Explainer

__all__ = ["ExplanationStream", "Explainer"]

"""Grounding knowledge: curated concept cards, retrieval over them and the student's notes."""

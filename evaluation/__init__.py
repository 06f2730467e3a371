"""Evaluation: ARC-style multiple-choice benchmarks and quiz-quality reports."""

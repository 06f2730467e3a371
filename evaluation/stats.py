"""Statistics for accuracy comparisons, on ``scipy.stats`` (pure: no torch).

* :func:`wilson_interval` - 95% confidence interval of an accuracy (Wilson score interval; unlike
  the normal approximation it stays inside [0, 1] and behaves at 0 % and 100 %).
* :func:`mcnemar` - are two models' accuracies on the *same* questions different? Only discordant
  questions count (b: first right, second wrong; c: first wrong, second right). Exact two-sided
  binomial test when b + c < 25, else the chi-square test with continuity correction.
* :func:`paired_comparison` - difference, its 95% interval, McNemar and per-question agreement.

``tests/unit/test_eval_stats.py`` checks every function against the closed-form formulas this module
used before it called scipy (identical to 1e-12).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# scipy.stats is imported inside each function: it takes seconds to import, and `tutor --help` reaches this
# module through the eval commands' registration.
CONFIDENCE = 0.95
EXACT_BELOW = 25  # discordant pairs; below this the chi-square approximation is poor


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``n`` (``(0.0, 1.0)`` when ``n == 0``)."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} outside 0..{n}")
    from scipy import stats

    interval = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return (float(interval.low), float(interval.high))


def binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of ``k`` successes in ``n`` fair coin flips."""
    if n == 0:
        return 1.0
    from scipy import stats

    return float(stats.binomtest(k, n, 0.5).pvalue)


def mcnemar(b: int, c: int) -> dict:
    """McNemar's test on discordant counts ``b`` and ``c``; returns statistic, p-value and method."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be >= 0")
    n = b + c
    if n < EXACT_BELOW:
        return {"b": b, "c": c, "method": "exact binomial", "statistic": None, "p_value": binomial_two_sided(b, n)}
    from scipy import stats

    statistic = (abs(b - c) - 1) ** 2 / n
    p_value = float(stats.chi2.sf(statistic, df=1))
    return {"b": b, "c": c, "method": "chi-square, continuity-corrected", "statistic": statistic, "p_value": p_value}


def paired_comparison(
    first_correct: Sequence[bool],
    second_correct: Sequence[bool],
    first_predicted: Sequence[str | None] | None = None,
    second_predicted: Sequence[str | None] | None = None,
    confidence: float = CONFIDENCE,
) -> dict:
    """Compare two models answering the same questions (``second - first``).

    The difference's interval is the Wald interval for paired proportions,
    ``sqrt((b + c) - (c - b)^2 / n) / n`` as standard error.
    """
    n = len(first_correct)
    if n != len(second_correct) or n == 0:
        raise ValueError("paired comparison needs two equally long, non-empty lists")
    b = sum(1 for x, y in zip(first_correct, second_correct) if x and not y)
    c = sum(1 for x, y in zip(first_correct, second_correct) if y and not x)
    both = sum(1 for x, y in zip(first_correct, second_correct) if x and y)
    difference = (c - b) / n
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + confidence / 2))
    se = math.sqrt(max((b + c) - (c - b) ** 2 / n, 0.0)) / n
    result = {
        "n": n,
        "first_accuracy": (both + b) / n,
        "second_accuracy": (both + c) / n,
        "difference": difference,
        "difference_ci95": [difference - z * se, difference + z * se],
        "both_correct": both,
        "both_wrong": n - both - b - c,
        "only_first_correct": b,
        "only_second_correct": c,
        "correctness_agreement": (n - b - c) / n,
        "mcnemar": mcnemar(b, c),
    }
    if first_predicted is not None and second_predicted is not None:
        if len(first_predicted) != n or len(second_predicted) != n:
            raise ValueError("predicted labels must align with the correctness lists")
        same = sum(1 for x, y in zip(first_predicted, second_predicted) if x is not None and x == y)
        result["prediction_agreement"] = same / n
    return result

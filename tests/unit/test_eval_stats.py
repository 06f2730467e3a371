"""Wilson intervals, McNemar's test and paired comparisons against hand-computed values.

    .venv/bin/python -m pytest tests/unit/test_eval_stats.py -q
"""

from __future__ import annotations

import math

import pytest

from evaluation.stats import binomial_two_sided, mcnemar, paired_comparison, wilson_interval


def test_wilson_interval_hand_computed():
    # 8/10: p=.8, z^2=3.8415; centre=(.8+.19207)/1.38415=.71673; half=1.96*sqrt(.016+.0096037)/1.38415=.22657
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.49016, abs=1e-4) and high == pytest.approx(0.94330, abs=1e-4)
    # 0/10: lower bound exactly 0, upper z^2/(n+z^2) = 3.8415/13.8415
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(3.841459 / 13.841459, abs=1e-6)
    low, high = wilson_interval(10, 10)
    assert high == 1.0 and low == pytest.approx(1 - 3.841459 / 13.841459, abs=1e-6)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_wilson_interval_narrows_with_n():
    a, b = wilson_interval(50, 100), wilson_interval(500, 1000)
    assert a[0] < b[0] < 0.5 < b[1] < a[1]


def test_exact_mcnemar_small_counts():
    # b=1, c=6: n=7, P(X<=1) = (1 + 7)/128, two-sided 16/128
    result = mcnemar(1, 6)
    assert result["method"] == "exact binomial" and result["p_value"] == pytest.approx(0.125)
    assert mcnemar(0, 0)["p_value"] == 1.0
    assert mcnemar(3, 3)["p_value"] == 1.0  # symmetric counts never exceed 1
    assert binomial_two_sided(0, 5) == pytest.approx(2 / 32)


def test_chi_square_mcnemar_large_counts():
    # b=10, c=25: (|10-25|-1)^2/35 = 5.6; chi2(1) survival = erfc(sqrt(2.8)) = 0.017961
    result = mcnemar(10, 25)
    assert result["method"].startswith("chi-square")
    assert result["statistic"] == pytest.approx(5.6)
    assert result["p_value"] == pytest.approx(0.017961, abs=1e-5)


def test_paired_comparison_counts_and_interval():
    first = [True, True, True, False, False, True, False, False, True, True]
    second = [True, False, True, True, True, True, True, False, True, True]
    result = paired_comparison(first, second, list("ABCDABCDAB"), list("ABCAABBDAB"))
    assert (result["only_first_correct"], result["only_second_correct"]) == (1, 3)
    assert (result["both_correct"], result["both_wrong"]) == (5, 1)
    assert result["first_accuracy"] == pytest.approx(0.6) and result["second_accuracy"] == pytest.approx(0.8)
    assert result["difference"] == pytest.approx(0.2)
    se = math.sqrt(4 - 4 / 10) / 10
    assert result["difference_ci95"] == pytest.approx([0.2 - 1.959964 * se, 0.2 + 1.959964 * se], abs=1e-5)
    assert result["mcnemar"]["p_value"] == pytest.approx(2 * (1 + 4) / 16)  # n=4, k=1
    assert result["correctness_agreement"] == pytest.approx(0.6)
    assert result["prediction_agreement"] == pytest.approx(0.8)
    with pytest.raises(ValueError):
        paired_comparison([True], [True, False])


# --------------------------------------------------- scipy against the closed forms it replaced

Z95 = 1.959963984540054  # standard normal 97.5% quantile


def _wilson_closed_form(k: int, n: int) -> tuple[float, float]:
    p = k / n
    denominator = 1 + Z95 * Z95 / n
    centre = (p + Z95 * Z95 / (2 * n)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 * Z95 / (4 * n * n)) / denominator
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


def _binomial_closed_form(k: int, n: int) -> float:
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(min(k, n - k) + 1)) / 2**n)


def test_wilson_interval_matches_the_closed_form():
    cases = [(k, n) for n in range(1, 31) for k in range(n + 1)]
    cases += [(k, n) for n in (100, 400, 1172) for k in (0, 1, n // 4, n // 2, n - 1, n)]
    for k, n in cases:
        assert wilson_interval(k, n) == pytest.approx(_wilson_closed_form(k, n), abs=1e-12)


def test_exact_binomial_and_chi_square_match_the_closed_forms():
    for n in range(1, 40):
        for k in range(n + 1):
            assert binomial_two_sided(k, n) == pytest.approx(_binomial_closed_form(k, n), abs=1e-12)
    for b, c in [(0, 25), (10, 25), (30, 30), (100, 40), (7, 300)]:
        statistic = (abs(b - c) - 1) ** 2 / (b + c)
        assert mcnemar(b, c)["p_value"] == pytest.approx(math.erfc(math.sqrt(statistic / 2)), abs=1e-12)


def test_results_are_plain_floats_for_json():
    low, high = wilson_interval(3, 7)
    assert type(low) is float and type(high) is float and type(mcnemar(40, 10)["p_value"]) is float

"""Layout and attention mask of packed loglik rows (no torch; the attention mask is checked in
tests/integration/test_eval_loglik_mask.py).

    .venv/bin/python -m pytest tests/unit/test_eval_loglik_packing.py -q
"""

from __future__ import annotations

import pytest

from evaluation.loglik import pack


def test_pack_lays_out_prompt_then_choices():
    row = pack([10, 11, 12], [[20, 21], [30], [40, 41, 42]])
    # Each continuation's last token is only a target, so it is not fed in.
    assert row.tokens == [10, 11, 12, 20, 40, 41]
    assert row.positions == [0, 1, 2, 3, 3, 4]  # every choice starts right after the prompt
    assert row.segments == [0, 0, 0, 1, 3, 3]
    # The first token of every choice is predicted by the last prompt token (index 2).
    assert row.predictors == [[2, 3], [2], [2, 4, 5]]
    assert row.targets == [[20, 21], [30], [40, 41, 42]]
    with pytest.raises(ValueError):
        pack([], [[1]])
    with pytest.raises(ValueError):
        pack([1], [[]])

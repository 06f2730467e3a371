"""Layout and attention mask of packed loglik rows (torch tensors only, no model).

    .venv/bin/python -m pytest tests/unit/test_eval_loglik_packing.py -q
"""

from __future__ import annotations

import pytest

from evaluation.loglik import attention_mask, pack


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


def test_mask_lets_choices_see_prompt_and_themselves_only():
    torch = pytest.importorskip("torch")
    row = pack([1, 2], [[3, 4, 9], [5, 9]])
    segments = torch.tensor([row.segments + [-1]])  # one padding slot
    mask = attention_mask(segments, torch.float32)
    assert mask.shape == (1, 1, 6, 6)
    visible = (mask[0, 0] == 0).int().tolist()
    assert visible == [
        [1, 0, 0, 0, 0, 0],  # prompt token 0
        [1, 1, 0, 0, 0, 0],  # prompt token 1
        [1, 1, 1, 0, 0, 0],  # choice 1, token 0
        [1, 1, 1, 1, 0, 0],  # choice 1, token 1
        [1, 1, 0, 0, 1, 0],  # choice 2 does not see choice 1
        [0, 0, 0, 0, 0, 1],  # padding sees only itself (no empty softmax row)
    ]
    assert mask.min().item() == torch.finfo(torch.float32).min

"""The attention mask of packed loglik rows (torch tensors, no model).

    .venv/bin/python -m pytest tests/integration/test_eval_loglik_mask.py -q
"""

from __future__ import annotations

import pytest
import torch

from evaluation.loglik import attention_mask, pack

pytestmark = pytest.mark.torch  # torch tensors only: integration tier, no download


def test_mask_lets_choices_see_prompt_and_themselves_only():
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

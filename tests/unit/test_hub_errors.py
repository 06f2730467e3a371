"""Hub failures say what happened: gated/no access (401/403), no such model (404), or offline (pure, no network).

The errors are huggingface_hub's own types with the responses the hub sends, raised and wrapped the way
transformers wraps them (``raise OSError(...) from error``).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_hub_errors.py -q
"""

from __future__ import annotations

import httpx2
import pytest
from huggingface_hub.errors import (
    GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError,
)

from llm.spec import hub_error_message

HUB_ID = "meta-llama/Llama-3.2-3B-Instruct"


def _response(status: int) -> httpx2.Response:
    return httpx2.Response(status, request=httpx2.Request("GET", f"https://huggingface.co/{HUB_ID}/resolve/main/x"))


def _wrapped(error: Exception) -> OSError:
    """``error`` as transformers re-raises it from ``from_pretrained``."""
    try:
        try:
            raise error
        except Exception as inner:
            raise OSError("You are trying to access a gated repo.") from inner
    except OSError as outer:
        return outer


def test_gated_model_says_how_to_log_in():
    message = hub_error_message(HUB_ID, _wrapped(GatedRepoError("403 Client Error", response=_response(403))))
    assert "gated" in message and "hf auth login" in message and "HF_TOKEN" in message
    assert f"https://huggingface.co/{HUB_ID}" in message and "offline" not in message


@pytest.mark.parametrize("status", [401, 403])
def test_refused_access_names_the_status_and_the_login(status):
    error = HfHubHTTPError(f"{status} Client Error", response=_response(status))
    for raised in (error, _wrapped(error)):
        message = hub_error_message(HUB_ID, raised)
        assert f"HTTP {status}" in message and "hf auth login" in message and "offline" not in message


def test_unauthenticated_missing_or_private_repo_is_a_login_matter():
    # The hub answers 401 (not 404) for a private or missing repo when no token is sent.
    message = hub_error_message(HUB_ID, _wrapped(RepositoryNotFoundError("401", response=_response(401))))
    assert "HTTP 401" in message and "gated or private" in message and "hf auth login" in message


def test_missing_model_says_check_the_id():
    message = hub_error_message(HUB_ID, RepositoryNotFoundError("404 Client Error", response=_response(404)))
    assert "HTTP 404" in message and "check the id" in message and "login" not in message


@pytest.mark.parametrize("error", [LocalEntryNotFoundError("no cached file, offline"), OSError("Connection refused"),
                                   HfHubHTTPError("502 Bad Gateway", response=_response(502))])
def test_everything_else_is_offline_or_unreachable(error):
    message = hub_error_message(HUB_ID, _wrapped(error))
    assert "offline or unreachable" in message and "hf download" in message and "login" not in message

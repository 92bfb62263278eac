"""Shared client set-up and error mapping for OpenAI-compatible servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import openai

from core.providers.base import ProviderError

T = TypeVar("T")


def make_client(base_url: str, api_key: str, timeout_s: float) -> openai.OpenAI:
    # Local servers (Ollama, llama.cpp) accept any key; the client insists on one.
    # Retries belong to the error-recovery layer, not to the client. Redirects are not
    # followed: an allowed address must not send the server (and its key) elsewhere.
    return openai.OpenAI(
        base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0,
        http_client=openai.DefaultHttpxClient(follow_redirects=False, timeout=timeout_s),
    )


@contextmanager
def mapped_errors(provider: str) -> Iterator[None]:
    """Turn the client's exceptions into ``ProviderError`` with the right retryability."""
    try:
        yield
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        raise ProviderError(provider, f"server unreachable: {type(exc).__name__}", retryable=True) from exc
    except openai.APIStatusError as exc:
        retryable = exc.status_code == 429 or exc.status_code >= 500
        raise ProviderError(provider, f"server answered {exc.status_code}", retryable=retryable) from exc
    except openai.OpenAIError as exc:
        raise ProviderError(provider, f"client error: {type(exc).__name__}", retryable=False) from exc


def call(provider: str, fn: Callable[[], T]) -> T:
    with mapped_errors(provider):
        return fn()

"""Reply generation on any OpenAI-compatible chat server, streamed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from core.providers.base import LLMProvider, Message
from core.providers.remote.openai_common import call, make_client, mapped_errors

SYSTEM_PROMPT = (
    "You are Sam, a friendly voice assistant in a spoken conversation. Answer in one to "
    "three short sentences of plain speech: no lists, no markdown, no emoji, no URLs."
)


class OpenAILLM(LLMProvider):
    name = "openai-llm"

    def __init__(self, base_url: str, api_key: str, model: str, timeout_s: float,
                 max_tokens: int = 120, language: str = "English") -> None:
        self._client = make_client(base_url, api_key, timeout_s)
        self._model = model
        self._max_tokens = max_tokens
        self._system = SYSTEM_PROMPT
        if language != "English":
            self._system += f" Always answer in {language}."

    def stream_reply(self, history: Sequence[Message], user_text: str,
                     avoid: str | None = None) -> Iterator[str]:
        system = self._system
        if avoid:
            system += " Do not repeat your previous answer word for word."
        messages = [{"role": "system", "content": system}]
        messages += [{"role": m.role, "content": m.text} for m in history]
        messages.append({"role": "user", "content": user_text})
        stream = call(
            self.name,
            lambda: self._client.chat.completions.create(
                model=self._model, messages=messages, stream=True,
                max_tokens=self._max_tokens, temperature=0.6,
            ),
        )
        try:
            with mapped_errors(self.name):
                for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
        finally:
            stream.close()

    def close(self) -> None:
        self._client.close()

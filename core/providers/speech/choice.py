"""A session's speech-to-speech choice: which API, at which address, with whose key.

The rules are the OpenAI-compatible providers' (``core.providers.choice``): a page may
name only the APIs' public addresses, the server's own (``server``) or one on the
admin's list (``VOICECHAT_CLIENT_SPEECH_URLS``); its key stays in the session's memory,
never logged or sent back; the server's key goes only to the server's own address and
kind, and on a server reachable from outside only when the admin lends it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from core.errors import ClientError
from core.providers.choice import normalized_url
from core.settings import Settings

OFF = "off"
KINDS = (OFF, "openai-realtime", "gemini-live")
PUBLIC_URLS = {
    "openai-realtime": "wss://api.openai.com/v1/realtime",
    "gemini-live": "wss://generativelanguage.googleapis.com/ws/"
                   "google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
}
DEFAULT_MODELS = {"openai-realtime": "gpt-realtime", "gemini-live": "gemini-live-2.5-flash-preview"}
DEFAULT_VOICES = {"openai-realtime": "alloy", "gemini-live": "Puck"}
SERVER_URL = "server"  # what pages call the server's own speech address
FIELDS = frozenset({"speech_provider", "speech_base_url", "speech_api_key", "speech_model", "speech_voice"})
_NAME = re.compile(r"^[\w.:/@+-]{0,100}$")
_URL = re.compile(r"^wss?://[^\s/]+")
MAX_KEY_CHARS = 300


@dataclass(frozen=True)
class SpeechChoice:
    kind: str = OFF
    base_url: str = ""  # "": the API's public address; "server": the server's own
    api_key: str = field(default="", repr=False)  # "": the server's key, where it may be used
    model: str = ""
    voice: str = ""

    @classmethod
    def defaults(cls, s: Settings) -> SpeechChoice:
        return cls(kind=s.speech_provider, base_url=SERVER_URL if s.speech_base_url else "",
                   model=s.speech_model, voice=s.speech_voice)

    @property
    def on(self) -> bool:
        return self.kind != OFF

    def url(self, s: Settings) -> str:
        if self.base_url == SERVER_URL:
            return normalized_url(s.speech_base_url)
        return self.base_url or PUBLIC_URLS[self.kind]

    def key(self, s: Settings) -> str:
        """The page's key, or the server's where it may go (its own kind and address)."""
        if self.api_key:
            return self.api_key
        return s.speech_api_key if self._servers_own(s) else ""

    def model_name(self) -> str:
        return self.model or DEFAULT_MODELS[self.kind]

    def voice_name(self) -> str:
        return self.voice or DEFAULT_VOICES[self.kind]

    def _servers_own(self, s: Settings) -> bool:
        own_url = self.base_url == SERVER_URL or (not self.base_url and not s.speech_base_url)
        return self.kind == s.speech_provider and own_url

    def as_event(self) -> dict[str, Any]:
        return {"speech_provider": self.kind, "speech_base_url": self.base_url, "speech_model": self.model,
                "speech_voice": self.voice, "speech_api_key_set": bool(self.api_key)}


def page_urls(s: Settings) -> tuple[str, ...]:
    """The addresses the settings drawer offers: the APIs' own, the server's, the admin's list."""
    extra = tuple(u for u in (normalized_url(u) for u in s.client_speech_urls.split(",")) if u)
    return ("", *((SERVER_URL,) if s.speech_base_url else ()), *extra)


def allowed_urls(s: Settings) -> set[str]:
    """What a settings message may name: the drawer's addresses, ``server`` (refused later
    when the server has none, with its own reason) and the APIs' public addresses by name."""
    return {SERVER_URL, *PUBLIC_URLS.values(), *page_urls(s)}


def updated_speech(current: SpeechChoice, changes: dict[str, Any], s: Settings) -> SpeechChoice:
    """``current`` with the ``speech_*`` fields of a settings message, checked; raises
    ``ClientError`` naming the first problem (nothing applied then)."""
    values: dict[str, str] = {}
    for key, value in changes.items():
        if not isinstance(value, str):
            raise ClientError("invalid_message", f"{key} must be a string")
        values[key.removeprefix("speech_").replace("provider", "kind")] = value.strip()
    if "base_url" in values:
        url = normalized_url(values["base_url"])
        values["base_url"] = SERVER_URL if url and url == normalized_url(s.speech_base_url) else url
    choice = dataclasses.replace(current, **values)
    _check(choice, s)
    return choice


def _check(c: SpeechChoice, s: Settings) -> None:
    if c.kind not in KINDS:
        raise ClientError("invalid_message", f"speech_provider must be one of {', '.join(KINDS)}")
    if c.base_url not in ("", SERVER_URL) and not _URL.match(c.base_url):
        raise ClientError("invalid_message", "speech_base_url must be a ws:// or wss:// address")
    if c.base_url == SERVER_URL and not s.speech_base_url:
        raise ClientError("invalid_message", "this server has no speech-to-speech address of its own")
    if c.base_url not in allowed_urls(s):
        raise ClientError("forbidden_endpoint", "this server connects only to the speech-to-speech APIs "
                                                "its admin allows (VOICECHAT_CLIENT_SPEECH_URLS)")
    if len(c.api_key) > MAX_KEY_CHARS or any(ch.isspace() for ch in c.api_key):
        raise ClientError("invalid_message", "speech_api_key is not a valid key")
    for name in ("model", "voice"):
        if not _NAME.match(getattr(c, name)):
            raise ClientError("invalid_message", f"speech_{name} has odd characters")
    if not c.on or c.api_key:
        return
    if not c._servers_own(s) or not s.speech_api_key:
        if c.base_url in ("", *PUBLIC_URLS.values()):
            raise ClientError("invalid_message", "enter your API key to use this speech-to-speech API")
        return  # an allowed address of the admin's own may need no key
    if s.exposed and not s.server_key_for_pages and (c.kind, c.model, c.voice) != (
            s.speech_provider, s.speech_model, s.speech_voice):
        raise ClientError("forbidden_endpoint", "this server does not lend its API key to pages; "
                                                "enter your own key to use this API")

"""Which providers, voice and language one session uses, as the person chose them.

The page may pick the embedded models, an OpenAI-compatible server or edge-tts for each
role. Every field is checked before anything changes. A client-supplied server address
is an invitation to make this server fetch URLs for strangers (SSRF), so a session may
only use the address the server was configured with or one on the admin's allow-list
(``VOICECHAT_CLIENT_BASE_URLS``). An API key sent by the page stays in the session's
memory: it is never logged and never sent back. The server's own address is not shown
to pages either (it may be an internal one): they name it ``server``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from core.errors import ClientError
from core.settings import Settings

STT_KINDS = ("local", "openai")
LLM_KINDS = ("local", "openai")
TTS_KINDS = ("local", "openai", "edge")

# Languages offered on the page (ISO 639-1), with their names for the reply prompt.
LANGUAGES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ja": "Japanese", "zh": "Chinese",
}
# The embedded models (Whisper tiny.en, Gemma 270M, Piper joe) are English only.
LOCAL_LANGUAGE = "en"
LOCAL_VOICES = ("joe",)
# Two edge-tts neural voices per offered language (the first is the default).
EDGE_VOICES = {
    "en": ("en-US-AriaNeural", "en-US-GuyNeural", "en-GB-SoniaNeural", "en-GB-RyanNeural"),
    "de": ("de-DE-KatjaNeural", "de-DE-ConradNeural"),
    "fr": ("fr-FR-DeniseNeural", "fr-FR-HenriNeural"),
    "es": ("es-ES-ElviraNeural", "es-ES-AlvaroNeural"),
    "it": ("it-IT-ElsaNeural", "it-IT-DiegoNeural"),
    "pt": ("pt-BR-FranciscaNeural", "pt-BR-AntonioNeural"),
    "nl": ("nl-NL-ColetteNeural", "nl-NL-MaartenNeural"),
    "ja": ("ja-JP-NanamiNeural", "ja-JP-KeitaNeural"),
    "zh": ("zh-CN-XiaoxiaoNeural", "zh-CN-YunxiNeural"),
}
OPENAI_VOICES = ("alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")

_EDGE_VOICE = re.compile(r"^[a-z]{2,3}-[A-Z]{2}-[A-Za-z]+Neural$")
_NAME = re.compile(r"^[\w.:/@+-]{1,100}$")
SERVER_URL = "server"  # what pages call the server's own OpenAI-compatible address
MAX_KEY_CHARS = 300
MAX_URL_CHARS = 300


@dataclass(frozen=True)
class ProviderChoice:
    stt_provider: str = "local"
    llm_provider: str = "local"
    tts_provider: str = "local"
    voice: str = ""  # local or edge voice; "" means the provider's default
    language: str = LOCAL_LANGUAGE
    openai_base_url: str = ""
    openai_api_key: str = field(default="", repr=False)  # "" with the server's URL: the server's key
    openai_stt_model: str = ""
    openai_llm_model: str = ""
    openai_tts_model: str = ""
    openai_tts_voice: str = ""

    @classmethod
    def defaults(cls, s: Settings) -> ProviderChoice:
        return cls(
            stt_provider=s.stt_provider, llm_provider=s.llm_provider, tts_provider=s.tts_provider,
            voice=s.edge_tts_voice if s.tts_provider == "edge" else "",
            openai_base_url=SERVER_URL, openai_stt_model=s.openai_stt_model,
            openai_llm_model=s.openai_llm_model, openai_tts_model=s.openai_tts_model,
            openai_tts_voice=s.openai_tts_voice,
        )

    @property
    def uses_openai(self) -> bool:
        return "openai" in (self.stt_provider, self.llm_provider, self.tts_provider)

    def resolved_voice(self) -> str:
        """The voice the TTS provider will speak with (the default when none was picked)."""
        if self.voice:
            return self.voice
        if self.tts_provider == "edge":
            return EDGE_VOICES[self.language][0]
        if self.tts_provider == "openai":
            return self.openai_tts_voice
        return LOCAL_VOICES[0]

    def base_url(self, s: Settings) -> str:
        """The address the clients connect to (``server``: the server's own)."""
        own = self.openai_base_url == SERVER_URL
        return normalized_url(s.openai_base_url) if own else self.openai_base_url

    def api_key(self, s: Settings) -> str:
        """The key for the chosen server: the page's, or the server's for its own address."""
        if self.openai_api_key:
            return self.openai_api_key
        if self.openai_base_url == SERVER_URL:
            return s.openai_api_key
        return ""

    def as_event(self) -> dict[str, Any]:
        """What the page may see: everything but the key (only whether one is set)."""
        shown = dataclasses.asdict(self)
        del shown["openai_api_key"]
        shown["openai_api_key_set"] = bool(self.openai_api_key)
        return shown


FIELDS = frozenset(f.name for f in dataclasses.fields(ProviderChoice))


def normalized_url(url: str) -> str:
    return url.strip().rstrip("/")


def allowed_base_urls(s: Settings) -> tuple[str, ...]:
    """What a page may choose: ``server`` and the admin's list (VOICECHAT_CLIENT_BASE_URLS)."""
    own = normalized_url(s.openai_base_url)
    extra = tuple(u for u in (normalized_url(u) for u in s.client_base_urls.split(",")) if u and u != own)
    return (SERVER_URL, *extra)


def updated_choice(current: ProviderChoice, changes: dict[str, Any], s: Settings) -> ProviderChoice:
    """``current`` with ``changes``, every field and the combination checked.

    Raises ``ClientError`` naming the first problem; nothing is applied then.
    """
    for key, value in changes.items():
        if not isinstance(value, str):
            raise ClientError("invalid_message", f"{key} must be a string")
    values = {key: value.strip() for key, value in changes.items()}
    if "openai_base_url" in values:
        url = normalized_url(values["openai_base_url"])
        values["openai_base_url"] = SERVER_URL if url == normalized_url(s.openai_base_url) else url
    choice = dataclasses.replace(current, **values)
    _check(choice, s)
    return choice


def _check(c: ProviderChoice, s: Settings) -> None:
    for key, kinds in (("stt_provider", STT_KINDS), ("llm_provider", LLM_KINDS),
                       ("tts_provider", TTS_KINDS)):
        # (the server's own kind is always allowed: a simulated one on a load-test server)
        if getattr(c, key) not in kinds and getattr(c, key) != getattr(s, key):
            raise ClientError("invalid_message", f"{key} must be one of {', '.join(kinds)}")
    if c.language not in LANGUAGES:
        raise ClientError("invalid_message", f"language must be one of {', '.join(LANGUAGES)}")
    if c.language != LOCAL_LANGUAGE:
        local = [role for role, kind in (("speech recognition", c.stt_provider), ("replies", c.llm_provider),
                                         ("voice", c.tts_provider)) if kind == "local"]
        if local:
            raise ClientError(
                "invalid_message",
                f"the embedded models speak English only; choose another provider for {', '.join(local)} "
                f"to use {LANGUAGES[c.language]}")
    _check_voice(c)
    if c.uses_openai:
        _check_openai(c, s)


def _check_voice(c: ProviderChoice) -> None:
    if not c.voice:
        return
    if c.tts_provider == "local" and c.voice not in LOCAL_VOICES:
        raise ClientError("invalid_message", f"the embedded voice is one of {', '.join(LOCAL_VOICES)}")
    if c.tts_provider == "edge":
        if not _EDGE_VOICE.match(c.voice):
            raise ClientError("invalid_message", "an edge-tts voice looks like en-US-AriaNeural")
        if not c.voice.startswith(c.language + "-"):
            raise ClientError("invalid_message",
                                f"voice {c.voice} does not speak {LANGUAGES[c.language]}")
    if c.tts_provider == "openai":
        raise ClientError("invalid_message", "with OpenAI-compatible speech, set openai_tts_voice")


def _names(spec: str) -> set[str]:
    return {name.strip() for name in spec.split(",") if name.strip()}


def _check_server_key(c: ProviderChoice, s: Settings) -> None:
    """A role switched to the server's own address with no key of the page's spends the
    server's key: on an exposed server only when the admin allows it, and only on the
    models the admin named (an expensive one is not the page's to pick)."""
    if c.openai_api_key or c.openai_base_url != SERVER_URL:
        return
    for role, fields in (("stt", ("openai_stt_model",)), ("llm", ("openai_llm_model",)),
                         ("tts", ("openai_tts_model", "openai_tts_voice"))):
        if getattr(c, f"{role}_provider") != "openai":
            continue
        if getattr(s, f"{role}_provider") == "openai" and all(
                getattr(c, f) == getattr(s, f) for f in fields):
            continue  # the server's own setup for this role, as its admin configured it
        if s.openai_api_key and s.exposed and not s.server_key_for_pages:
            raise ClientError("forbidden_endpoint", "this server does not lend its API key to pages; "
                                                    "enter your own key to use this server")
        model = getattr(c, f"openai_{role}_model")
        allowed = {getattr(s, f"openai_{role}_model"), *_names(getattr(s, f"client_{role}_models"))}
        if model not in allowed:
            raise ClientError("forbidden_model", f"with the server's key, openai_{role}_model must be "
                                                 f"one of {', '.join(sorted(allowed))}")


def _check_openai(c: ProviderChoice, s: Settings) -> None:
    url = c.openai_base_url
    if url != SERVER_URL and (len(url) > MAX_URL_CHARS or not re.match(r"^https?://[^\s/]+", url)):
        raise ClientError("invalid_message", "openai_base_url must be an http:// or https:// address")
    if url not in allowed_base_urls(s):
        raise ClientError(
            "forbidden_endpoint",
            "this server connects only to the OpenAI-compatible servers its admin allows "
            "(VOICECHAT_CLIENT_BASE_URLS)")
    if len(c.openai_api_key) > MAX_KEY_CHARS or any(ch.isspace() for ch in c.openai_api_key):
        raise ClientError("invalid_message", "openai_api_key is not a valid key")
    needed = {"stt": ("openai_stt_model",), "llm": ("openai_llm_model",),
              "tts": ("openai_tts_model", "openai_tts_voice")}
    for role, names in needed.items():
        if getattr(c, f"{role}_provider") != "openai":
            continue
        for name in names:
            if not _NAME.match(getattr(c, name)):
                raise ClientError("invalid_message", f"{name} is missing or has odd characters")
    _check_server_key(c, s)

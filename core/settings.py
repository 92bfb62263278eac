"""One settings object, read from the environment once at start-up.

Every variable has the prefix ``VOICECHAT_``; the README lists each with its default.
Providers and sessions receive this object (or a part of it); nothing else reads the
environment.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from urllib.parse import urlsplit

PREFIX = "VOICECHAT_"
MIN_ADMIN_TOKEN_CHARS = 16
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


class SettingsError(ValueError):
    """A variable has a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    # Server
    host: str = field(default="127.0.0.1", metadata={"doc": "Address the server binds to."})
    port: int = field(default=8050, metadata={"doc": "Port of the web page and WebSocket."})
    threads: int = field(
        default=64,
        metadata={"doc": "Server threads; each open WebSocket holds one."},
    )
    allowed_origins: str = field(
        default="",
        metadata={
            "doc": "Comma-separated Origins allowed on the WebSocket, besides the "
            "server's own host (empty: same host only)."
        },
    )
    allowed_hosts: str = field(
        default="",
        metadata={
            "doc": "Comma-separated host names the server answers to, besides localhost names "
            "and IP addresses (a guard against DNS rebinding). Behind a proxy or tunnel: its "
            "public name."
        },
    )
    trusted_proxies: str = field(
        default="",
        metadata={"doc": "Comma-separated addresses or networks of reverse proxies whose "
                         "X-Forwarded-For is believed (empty: none; every client is the peer "
                         "address). IPv6 clients are counted by their /64."},
    )
    max_sessions: int = field(default=50, metadata={"doc": "Most WebSocket sessions at once."})
    max_sessions_per_address: int = field(
        default=8, metadata={"doc": "Most sessions at once from one client address (0: no limit); with "
                                    "VOICECHAT_REDIS_URL, across every process."}
    )
    cluster_max_sessions: int = field(
        default=0, metadata={"doc": "With VOICECHAT_REDIS_URL: most sessions at once across every process "
                                    "(0: only each process's VOICECHAT_MAX_SESSIONS)."}
    )
    turns_per_minute: int = field(
        default=20,
        metadata={"doc": "Typed messages one session may send a minute (bursts of up to 5); "
                         "more are refused with rate_limited (0: no limit)."},
    )
    address_turns_per_minute: int = field(
        default=60,
        metadata={"doc": "Typed messages all sessions of one client address may send a minute "
                         "(bursts of up to 15; 0: no limit)."},
    )
    reply_tokens_per_minute: int = field(
        default=3000,
        metadata={"doc": "Reply tokens one session may have generated a minute; past it a new reply "
                         "waits (rate_limited, with the wait; 0: no limit)."},
    )
    address_reply_tokens_per_minute: int = field(
        default=10000,
        metadata={"doc": "Reply tokens all sessions of one client address may have generated a "
                         "minute (0: no limit)."},
    )
    session_idle_timeout_s: float = field(
        default=600.0, metadata={"doc": "A session with no message for this long is closed."}
    )
    socket_hub: bool = field(
        default=True,
        metadata={"doc": "One thread reads every voice socket (fewer thread switches: more sessions "
                         "per core); off: one thread per socket."},
    )
    vad_batch: bool = field(
        default=True,
        metadata={"doc": "With the socket hub: the speech model (Silero) runs once for every "
                         "session's frames read together; off: once per session's chunk."},
    )
    heartbeat_s: float = field(
        default=20.0,
        metadata={"doc": "WebSocket ping interval; a peer that misses a pong is closed."},
    )
    resume_window_s: float = field(
        default=60.0,
        metadata={"doc": "A dropped session can be resumed (history, settings) this long."},
    )
    max_message_bytes: int = field(
        default=65536, metadata={"doc": "Largest WebSocket message accepted, in bytes."}
    )
    inbox_max_messages: int = field(
        default=1000,
        metadata={"doc": "Messages received but not yet handled, per session; past this (or "
                         "VOICECHAT_INBOX_MAX_BYTES) the client is flooding and is closed."},
    )
    inbox_max_bytes: int = field(
        default=10 * 1024 * 1024, metadata={"doc": "Bytes received but not yet handled, per session."}
    )
    messages_per_second: int = field(
        default=200,
        metadata={"doc": "Messages one session may send per second (audio is 50); more are "
                         "dropped with an error, and a client that keeps on is closed."},
    )
    db_path: str = field(
        default="~/.local/share/voicechat/conversations.db",
        metadata={"doc": "SQLite file where every finalized turn is stored (empty: not stored)."},
    )
    database_url: str = field(
        default="",
        repr=False,
        metadata={"doc": "PostgreSQL for the conversations instead of the SQLite file "
                         "(`postgresql://user:password@host:5432/db`; several processes or machines "
                         "share it; the password is never logged).", "secret": True},
    )
    advertised_url: str = field(
        default="",
        metadata={"doc": "With VOICECHAT_REDIS_URL: where the other processes reach this one's admin "
                         "endpoints (empty: http://127.0.0.1:VOICECHAT_PORT, right on one machine)."},
    )
    redis_url: str = field(
        default="",
        repr=False,
        metadata={"doc": "Redis for state shared by several processes (`redis://host:6379/0`): a "
                         "dropped conversation is parked there too, so its resume may land on any "
                         "process (empty: in this process's memory only).", "secret": True},
    )
    store_retention_days: float = field(
        default=30.0,
        metadata={"doc": "Stored conversations older than this are deleted (0: kept for ever)."},
    )
    store_max_mb: int = field(
        default=512,
        metadata={"doc": "Most space the stored conversations may take; the oldest go first (0: no limit)."},
    )
    admin_token: str = field(
        default="",
        repr=False,
        metadata={"doc": f"Token for /metrics and the admin page, at least {MIN_ADMIN_TOKEN_CHARS} "
                         "characters (empty: they are closed). "
                         "Send it as `Authorization: Bearer <token>`.", "secret": True},
    )
    access_passcode: str = field(
        default="",
        repr=False,
        metadata={"doc": "Passcode the page asks for before a voice session; it is exchanged for a "
                         "short-lived session ticket (empty: no passcode).", "secret": True},
    )
    ticket_secret: str = field(
        default="",
        repr=False,
        metadata={"doc": "Secret (at least 32 characters) with which an operator's backend mints "
                         "session tickets (`python -m core.transport.tickets`); set, every voice "
                         "socket needs a ticket (empty: a random one per start, for passcode "
                         "tickets only).", "secret": True},
    )
    ticket_ttl_s: float = field(
        default=3600.0, metadata={"doc": "How long a session ticket opens new sessions, seconds."}
    )
    passcode_scope: str = field(
        default="talk",
        metadata={"doc": "What a passcode's ticket allows: `talk`, or `talk,providers` (also "
                         "change the session's providers)."},
    )
    public_access: bool = field(
        default=False,
        metadata={"doc": "Let anyone who reaches a server exposed beyond localhost talk without a "
                         "passcode or ticket (off: such a server does not start without "
                         "VOICECHAT_ACCESS_PASSCODE or VOICECHAT_TICKET_SECRET)."},
    )
    # Providers
    stt_provider: str = field(
        default="local",
        metadata={"doc": "Speech-to-text: `local` or `openai` (`simulated`: load tests only)."},
    )
    llm_provider: str = field(
        default="local",
        metadata={"doc": "Reply generator: `local` or `openai` (`simulated`: load tests only)."},
    )
    tts_provider: str = field(
        default="local",
        metadata={"doc": "Text-to-speech: `local`, `openai` or `edge` (`simulated`: load tests only)."},
    )
    openai_base_url: str = field(
        default="http://127.0.0.1:11434/v1",
        metadata={"doc": "Base URL of the OpenAI-compatible server (Ollama, vLLM, ...)."},
    )
    openai_api_key: str = field(
        default="",
        repr=False,
        metadata={"doc": "API key for that server (never logged).", "secret": True},
    )
    openai_stt_model: str = field(default="whisper-1", metadata={"doc": "STT model name."})
    openai_llm_model: str = field(default="gpt-4o-mini", metadata={"doc": "LLM model name."})
    openai_tts_model: str = field(default="tts-1", metadata={"doc": "TTS model name."})
    openai_tts_voice: str = field(default="alloy", metadata={"doc": "TTS voice name."})
    edge_tts_voice: str = field(
        default="en-US-AriaNeural", metadata={"doc": "edge-tts voice name."}
    )
    speech_provider: str = field(
        default="off",
        metadata={"doc": "Speech-to-speech engine answering turns: `off` (the chained STT, LLM "
                         "and TTS), `openai-realtime` or `gemini-live`. The chained providers "
                         "stay: they take the turns and answer when it is down."},
    )
    speech_base_url: str = field(
        default="",
        metadata={"doc": "WebSocket address of the speech-to-speech API (empty: the API's own "
                         "public address)."},
    )
    speech_api_key: str = field(
        default="",
        repr=False,
        metadata={"doc": "API key for the speech-to-speech API (never logged).", "secret": True},
    )
    speech_model: str = field(
        default="",
        metadata={"doc": "Speech-to-speech model (empty: gpt-realtime, or "
                         "gemini-live-2.5-flash-preview)."},
    )
    speech_voice: str = field(default="", metadata={"doc": "Its voice (empty: alloy, or Puck)."})
    speech_response_timeout_s: float = field(
        default=3.0,
        metadata={"doc": "An answer silent this long is given up and the turn answered by the "
                         "chained providers."},
    )
    client_speech_urls: str = field(
        default="",
        metadata={"doc": "Comma-separated speech-to-speech addresses a page may choose, besides "
                         "the APIs' public ones and VOICECHAT_SPEECH_BASE_URL."},
    )
    client_base_urls: str = field(
        default="",
        metadata={"doc": "Comma-separated OpenAI-compatible base URLs a page may choose, besides "
                         "VOICECHAT_OPENAI_BASE_URL (no others: the server would fetch them)."},
    )
    client_stt_models: str = field(
        default="",
        metadata={"doc": "Comma-separated speech-to-text models a page may choose on the server's "
                         "own address without a key of its own, besides VOICECHAT_OPENAI_STT_MODEL."},
    )
    client_llm_models: str = field(
        default="",
        metadata={"doc": "The same for reply models, besides VOICECHAT_OPENAI_LLM_MODEL."},
    )
    client_tts_models: str = field(
        default="",
        metadata={"doc": "The same for speech models, besides VOICECHAT_OPENAI_TTS_MODEL."},
    )
    server_key_for_pages: bool = field(
        default=False,
        metadata={"doc": "On a server reachable from outside (not bound to localhost, or with "
                         "VOICECHAT_ALLOWED_HOSTS or VOICECHAT_TRUSTED_PROXIES set), pages may switch "
                         "a role to the server's own address and spend VOICECHAT_OPENAI_API_KEY "
                         "(off: they bring their own key; on localhost they always may)."},
    )
    provider_timeout_s: float = field(
        default=20.0, metadata={"doc": "Timeout of one remote provider call, seconds."}
    )
    provider_attempt_timeout_s: float = field(
        default=3.0,
        metadata={"doc": "A provider that gives no output (first or next piece) this long is "
                         "given up for the turn."},
    )
    provider_queue_timeout_s: float = field(
        default=10.0,
        metadata={"doc": "A provider call still waiting for its turn after this long (the model "
                         "busy with others) is given up; the attempt timeout counts from the start."},
    )
    provider_attempts: int = field(
        default=2, metadata={"doc": "Tries of a provider call that failed in a retryable way."}
    )
    circuit_failures: int = field(
        default=3,
        metadata={"doc": "Failures in a row that take a provider out of use (its fallback, if "
                         "any, answers meanwhile)."},
    )
    circuit_probe_s: float = field(
        default=5.0, metadata={"doc": "How often a provider out of use is tried again."}
    )
    fallback_to_embedded: bool = field(
        default=True,
        metadata={"doc": "A remote provider out of use is replaced by the embedded model of its "
                         "role until it answers again."},
    )
    # Simulated providers (QA's load tests: the server's own capacity without model cost)
    simulated_stt_ms: float = field(
        default=300.0,
        metadata={"doc": "Simulated speech recognition: transcript this long after the request "
                         "(plus 20 ms per second of audio)."},
    )
    simulated_llm_first_token_ms: float = field(
        default=350.0, metadata={"doc": "Simulated replies: first token after this long."}
    )
    simulated_llm_tokens_per_s: float = field(
        default=50.0, metadata={"doc": "Simulated replies: tokens a second after the first."}
    )
    simulated_tts_first_audio_ms: float = field(
        default=200.0, metadata={"doc": "Simulated voice: first audio of a sentence after this long."}
    )
    simulated_jitter: float = field(
        default=0.2,
        metadata={"doc": "Each simulated delay is scaled by a random factor within 1 +/- this."},
    )
    # Local models
    model_dir: str = field(
        default="~/.cache/voicechat/models",
        metadata={"doc": "Where the assembled Gemma GGUF file is kept."},
    )
    stt_window_s: float = field(
        default=10.0,
        metadata={"doc": "Whisper encoder window in seconds (0: the standard 30 s)."},
    )
    cpu_threads: int = field(
        default=2, metadata={"doc": "CPU threads for each local model."}
    )
    llm_max_tokens: int = field(
        default=60, metadata={"doc": "Most tokens in one reply from the local LLM."}
    )
    llm_context_tokens: int = field(
        default=2048, metadata={"doc": "Context window of the local LLM."}
    )
    # Segmentation
    vad_aggressiveness: int = field(
        default=2, metadata={"doc": "webrtcvad mode, 0 (lenient) to 3 (strict)."}
    )
    vad_neural: bool = field(
        default=True,
        metadata={"doc": "Confirm speech with the Silero model shipped in faster-whisper "
                         "(breaths and clicks do not keep a turn open)."},
    )
    echo_gate: bool = field(
        default=True,
        metadata={"doc": "Silence microphone frames that only the reply's own echo explains "
                         "(laptop speakers without echo cancellation, a phone on speaker)."},
    )
    vad_start_frames: int = field(
        default=3, metadata={"doc": "Voiced 30 ms frames (in the start window) that start speech."}
    )
    vad_start_window: int = field(
        default=5, metadata={"doc": "Frames looked at for the start decision."}
    )
    vad_end_silence_ms: int = field(
        default=1700,
        metadata={"doc": "Longest silence waited for when the words or the voice sound unfinished."},
    )
    turn_commit_ms: int = field(
        default=450,
        metadata={"doc": "Silence that ends a turn when the words give no hint."},
    )
    turn_commit_done_ms: int = field(
        default=200,
        metadata={"doc": "Silence that ends a turn once the words sound finished."},
    )
    turn_min_reply_gap_ms: int = field(
        default=650,
        metadata={"doc": "The reply starts no sooner after the speech (a breath is not an end), "
                         "unless the turn model heard a finished voice."},
    )
    turn_model: bool = field(
        default=True,
        metadata={"doc": "Hear at each pause whether the voice sounds finished (Smart Turn v3.2, "
                         "fetched by the setup); off or missing: the words and the silence decide."},
    )
    turn_finished_probability: float = field(
        default=0.5,
        metadata={"doc": "The turn model's probability from which a voice sounds finished."},
    )
    turn_weigh_words: bool = field(
        default=True,
        metadata={"doc": "Ask the replies model at each pause whether the words so far end the line "
                         "(the embedded model only; ~30 ms)."},
    )
    turn_fragment_probability: float = field(
        default=0.1,
        metadata={"doc": "Below this chance of the line ending there, the words are taken as unfinished "
                         "and the longest silence is waited for."},
    )
    turn_patience: bool = field(
        default=True,
        metadata={"doc": "Learn from being talked over mid-sentence: a person who goes on over the start "
                         "of an answer gets their next four ends waited out (1.7 s; a question 0.65 s)."},
    )
    turn_speculative_reply: bool = field(
        default=True,
        metadata={"doc": "Generate the answer while the end-of-turn silence is still being "
                         "confirmed (dropped if the person goes on; costs tokens with a paid API)."},
    )
    refractory_ms: int = field(
        default=200, metadata={"doc": "Speech this soon after a reply ends is taken as its echo."}
    )
    false_interruption_ms: int = field(
        default=2000,
        metadata={"doc": "A reply paused by a noise resumes if no real speech follows."},
    )
    dedup_window_ms: int = field(
        default=14000, metadata={"doc": "The same words again within this time are not answered."}
    )
    thinking_cue_ms: int = field(
        default=800, metadata={"doc": "Play a short spoken cue if the answer is this late (0: off)."}
    )
    thinking_cue_text: str = field(default="Hmm, let me think.", metadata={"doc": "The cue's words."})
    greeting_after_ms: int = field(
        default=6000,
        metadata={"doc": "Greet a person who is silent this long after Start (0: off)."},
    )
    greeting_text: str = field(
        default="Hi, I'm Sam. What can I do for you?", metadata={"doc": "The greeting."}
    )
    # Phone calls (Twilio Media Streams; docs/phone.md)
    phone_enabled: bool = field(
        default=False,
        metadata={"doc": "Answer phone calls: installs /twilio/voice and /twilio/media (off: the "
                         "routes do not exist). Reachable from outside this machine, it needs "
                         "VOICECHAT_TWILIO_AUTH_TOKEN."},
    )
    twilio_auth_token: str = field(
        default="",
        repr=False,
        metadata={"doc": "Twilio auth token: incoming-call webhooks and media streams must carry "
                         "Twilio's signature (empty: not checked; calls still need the webhook's "
                         "per-call token).", "secret": True},
    )
    phone_public_url: str = field(
        default="",
        metadata={"doc": "The app's public https URL as Twilio reaches it (a tunnel or proxy); "
                         "signatures are checked against it and the media stream URL is made from "
                         "it (empty: the request's own URL)."},
    )
    phone_greeting_after_ms: int = field(
        default=300,
        metadata={"doc": "On a call, greet once the line has been quiet this long (0: no greeting)."},
    )
    phone_unavailable_text: str = field(
        default="Sorry, the assistant cannot take your call right now. Please try again later.",
        metadata={"doc": "What Twilio says when the app cannot take a call (full, or the stream failed)."},
    )
    first_clause_words: int = field(
        default=2,
        metadata={"doc": "The first piece spoken may end at a comma once it has this many "
                         "words, or is an interjection ('No,'), so speech starts sooner "
                         "(0: whole sentences only)."},
    )
    max_reply_sentences: int = field(
        default=3, metadata={"doc": "Most sentences in one spoken reply."}
    )
    vad_hangover_ms: int = field(
        default=150, metadata={"doc": "Silence kept after the last voiced frame."}
    )
    vad_pre_roll_ms: int = field(
        default=240, metadata={"doc": "Audio kept before the speech start."}
    )
    vad_speculate_after_ms: int = field(
        default=60,
        metadata={"doc": "Silence after which transcription starts speculatively (0: off)."},
    )
    vad_min_utterance_ms: int = field(
        default=280, metadata={"doc": "Voiced stretches shorter than this are heard as a possible "
                                      "short word: answered only if the recognizer finds words in it."}
    )
    vad_min_word_ms: int = field(
        default=120, metadata={"doc": "Voiced stretches shorter than this are ignored as noise."}
    )
    vad_max_utterance_ms: int = field(
        default=12000, metadata={"doc": "Longer utterances are cut here."}
    )
    # Session buffers and processing
    input_buffer_ms: int = field(
        default=2000, metadata={"doc": "Mic audio a session may hold unread (drop oldest)."}
    )
    input_buffer_chunks: int = field(
        default=1000, metadata={"doc": "Pieces of mic audio held before they are joined into one."}
    )
    output_queue_items: int = field(
        default=256, metadata={"doc": "Events and audio chunks queued per session."}
    )
    turn_workers: int = field(
        default=4, metadata={"doc": "Turns processed at once across all sessions."}
    )
    turn_backlog: int = field(
        default=16, metadata={"doc": "Turns waiting for a worker before new ones are refused."}
    )
    history_turns: int = field(
        default=6, metadata={"doc": "Past exchanges put in the LLM prompt."}
    )
    log_level: str = field(default="INFO", metadata={"doc": "Python logging level."})
    log_format: str = field(
        default="text", metadata={"doc": "`text`, or `json`: one JSON object per line, for log collectors."}
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``VOICECHAT_*`` variables; unknown ones are an error."""
        env = os.environ if environ is None else environ
        known = {f.name for f in fields(cls)}
        unknown = sorted(
            k for k in env if k.startswith(PREFIX) and k[len(PREFIX):].lower() not in known
        )
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(unknown)}")
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _convert(f.name, raw, type(f.default))
        settings = cls(**values)
        settings.validate()
        return settings

    def replace(self, **changes: object) -> Settings:
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    def validate(self) -> None:
        choices = {
            "stt_provider": ("local", "openai", "simulated"),
            "llm_provider": ("local", "openai", "simulated"),
            "tts_provider": ("local", "openai", "edge", "simulated"),
            "speech_provider": ("off", "openai-realtime", "gemini-live"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise SettingsError(f"{PREFIX}{name.upper()} must be one of {allowed}")
        if self.log_format not in ("text", "json"):
            raise SettingsError(f"{PREFIX}LOG_FORMAT must be text or json")
        if not (0 <= self.turn_finished_probability <= 1 and 0 <= self.turn_fragment_probability <= 1):
            raise SettingsError(f"{PREFIX}TURN_*_PROBABILITY must be 0..1")
        if not 0 <= self.simulated_jitter < 1:
            raise SettingsError(f"{PREFIX}SIMULATED_JITTER must be 0..1 (exclusive)")
        if min(self.simulated_stt_ms, self.simulated_llm_first_token_ms,
               self.simulated_tts_first_audio_ms) < 0 or self.simulated_llm_tokens_per_s <= 0:
            raise SettingsError(f"{PREFIX}SIMULATED_* delays must be >= 0 and the token rate positive")
        if self.phone_public_url and not self.phone_public_url.startswith(("https://", "http://")):
            raise SettingsError(f"{PREFIX}PHONE_PUBLIC_URL must start with https:// (or http://)")
        if self.phone_enabled and not self.twilio_auth_token and self.phone_reachable_from_outside:
            raise SettingsError(f"{PREFIX}PHONE_ENABLED on a public address needs {PREFIX}TWILIO_AUTH_TOKEN: "
                                "without it anyone could place calls on this server's providers")
        if self.admin_token and len(self.admin_token) < MIN_ADMIN_TOKEN_CHARS:
            raise SettingsError(f"{PREFIX}ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_CHARS} characters")
        for proxy in (p.strip() for p in self.trusted_proxies.split(",") if p.strip()):
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise SettingsError(f"{PREFIX}TRUSTED_PROXIES: {proxy!r} is not an address "
                                    "or network") from exc
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError(f"{PREFIX}REDIS_URL must be a redis:// URL")
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise SettingsError(f"{PREFIX}DATABASE_URL must be a postgresql:// URL")
        if self.ticket_secret and len(self.ticket_secret) < 32:
            raise SettingsError(f"{PREFIX}TICKET_SECRET must be at least 32 characters")
        scopes = {p.strip() for p in self.passcode_scope.split(",")}
        if "talk" not in scopes or not scopes <= {"talk", "providers"}:
            raise SettingsError(f"{PREFIX}PASSCODE_SCOPE must be talk or talk,providers")
        if self.phone_greeting_after_ms < 0:
            raise SettingsError(f"{PREFIX}PHONE_GREETING_AFTER_MS must be >= 0")
        if not 0 <= self.vad_aggressiveness <= 3:
            raise SettingsError(f"{PREFIX}VAD_AGGRESSIVENESS must be 0..3")
        if not 1 <= self.vad_start_frames <= self.vad_start_window:
            raise SettingsError(f"{PREFIX}VAD_START_FRAMES must be 1..VAD_START_WINDOW")
        if self.store_retention_days < 0 or self.store_max_mb < 0:
            raise SettingsError(f"{PREFIX}STORE_RETENTION_DAYS and STORE_MAX_MB must be >= 0")
        if self.cluster_max_sessions < 0:
            raise SettingsError(f"{PREFIX}CLUSTER_MAX_SESSIONS must be >= 0")
        if min(self.turns_per_minute, self.address_turns_per_minute, self.reply_tokens_per_minute,
               self.address_reply_tokens_per_minute) < 0:
            raise SettingsError(f"{PREFIX}*TURNS_PER_MINUTE and *REPLY_TOKENS_PER_MINUTE must be >= 0")
        if self.max_sessions_per_address < 0 or self.resume_window_s < 0:
            raise SettingsError(f"{PREFIX}MAX_SESSIONS_PER_ADDRESS and RESUME_WINDOW_S must be >= 0")
        positive = (
            "port", "threads", "max_sessions", "max_message_bytes", "cpu_threads",
            "llm_max_tokens", "vad_end_silence_ms", "vad_max_utterance_ms",
            "input_buffer_ms", "output_queue_items", "turn_workers", "turn_backlog",
            "heartbeat_s", "inbox_max_messages", "inbox_max_bytes", "messages_per_second",
            "provider_attempt_timeout_s", "provider_queue_timeout_s", "provider_attempts",
            "circuit_failures", "circuit_probe_s", "input_buffer_chunks", "ticket_ttl_s",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise SettingsError(f"{PREFIX}{name.upper()} must be positive")

    @property
    def origin_allow_list(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())

    @property
    def exposed(self) -> bool:
        """Reachable by others: bound beyond localhost, or named for a proxy or tunnel."""
        return self.host not in LOOPBACK_NAMES or bool(self.allowed_hosts.strip()) or bool(
            self.trusted_proxies.strip())

    @property
    def own_url(self) -> str:
        return self.advertised_url.rstrip("/") or f"http://127.0.0.1:{self.port}"

    @property
    def store_location(self) -> str:
        """Where conversations are stored: the PostgreSQL URL, else the SQLite file ("": none)."""
        return self.database_url or (os.path.expanduser(self.db_path) if self.db_path else "")

    @property
    def access_required(self) -> bool:
        """Every voice socket must show a session ticket."""
        return bool(self.access_passcode or self.ticket_secret)

    def exposure_problem(self) -> str | None:
        """Why this server must not start as configured (checked when it is served)."""
        if self.exposed and not self.access_required and not self.public_access:
            return (f"this server is reachable from other machines but anyone could talk on its "
                    f"providers: set {PREFIX}ACCESS_PASSCODE (or {PREFIX}TICKET_SECRET), or "
                    f"{PREFIX}PUBLIC_ACCESS=1 to allow it")
        return None

    @property
    def phone_reachable_from_outside(self) -> bool:
        """Bound to a public address, or announced to Twilio under a public URL."""
        public_url_host = urlsplit(self.phone_public_url).hostname or ""
        public_url_outside = bool(public_url_host) and public_url_host not in LOOPBACK_NAMES
        return self.host not in LOOPBACK_NAMES or public_url_outside

    @property
    def model_path(self) -> str:
        return os.path.expanduser(self.model_dir)


def _convert(name: str, raw: str, kind: type) -> object:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        return raw
    except ValueError as exc:
        raise SettingsError(f"{PREFIX}{name.upper()}: cannot read {raw!r} as {kind.__name__}") from exc


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting; the README is made from it."""
    rows = []
    for f in fields(Settings):
        if isinstance(f.default, bool):
            default = "on" if f.default else "off"
        else:
            default = "(empty)" if f.default == "" else str(f.default)
        rows.append((PREFIX + f.name.upper(), default, f.metadata.get("doc", "")))
    return rows


def settings_markdown() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, default, doc in settings_table():
        lines.append(f"| `{name}` | `{default}` | {doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_markdown())

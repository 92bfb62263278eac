"""What each control message of the browser protocol (docs/protocol.md) asks of a
session, once the connection has let it through its limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.audio.pcm import INPUT_SAMPLE_RATE
from core.errors import ClientError
from core.session.session import Session
from core.transport.wire import parse_control


def _hello(session: Session, sample_rate: object) -> None:
    if sample_rate != INPUT_SAMPLE_RATE:
        session.report(ClientError("unsupported_sample_rate",
                                   f"send PCM16 mono at {INPUT_SAMPLE_RATE} Hz, not {sample_rate!r}"))


def _resume_too_late(session: Session) -> None:
    session.report(ClientError("out_of_order", "resume must be the first message on a new connection"))


# What each control message asks of the session (``resume`` reaches it only when it
# came too late: a connection takes one as its first message itself).
HANDLERS: dict[str, Callable[[Session, dict[str, Any]], None]] = {
    "hello": lambda s, data: _hello(s, data.get("sample_rate", INPUT_SAMPLE_RATE)),
    "start": lambda s, _: s.start_listening(),
    "stop": lambda s, _: s.stop_listening(),
    "interrupt": lambda s, _: s.engine_step(lambda engine, now: engine.interrupt(now)),
    "text": lambda s, data: s.text(data["text"]),
    "playback_done": lambda s, data: s.playback_done(data["turn"]),
    "ping": lambda s, data: s.ping(data.get("t")),
    "settings": lambda s, data: s.change_settings(data),
    "delete_conversation": lambda s, _: s.forget(),
    "resume": lambda s, _: _resume_too_late(s),
    "auth": lambda s, _: None,  # (a connection's first message; harmless later or where not asked)
}


def handle_control(session: Session, text: str) -> None:
    """A control message (JSON text) handed to ``session``; a malformed one is reported."""
    try:
        message = parse_control(text)
    except ClientError as exc:
        session.report(exc)
        return
    HANDLERS[message.type](session, message.data)

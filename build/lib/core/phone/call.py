"""One phone call over a Twilio media stream: the same ``Session`` as a browser's, with
telephone audio on both sides.

``connected`` then ``start`` open the call: the start must carry the per-call token the
webhook put in the TwiML (so only calls that came through our webhook get a session),
then the call is admitted like any session (same limits, counted against the caller the
token names) and greeted. ``media`` is the
caller's voice, converted and fed to the session; ``mark`` echoes tell the reply channel
what has played; ``dtmf`` is counted; ``stop`` (the caller hung up) ends the session for
good, as does anything that ends the socket: a call cannot be resumed. When the server
ends a call itself (full, idle, flooding), Twilio goes on to the TwiML after
``<Connect>``, which says the assistant is unavailable.

The receive loop survives a bug in handling one message (logged once, counted, the
message skipped): a call never goes silent because one frame was odd.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from simple_websocket import ConnectionClosed

from core.bugs import BugLog
from core.phone import twilio_messages
from core.phone.audio import InboundAudio
from core.phone.call_tokens import Redeemed
from core.phone.playout import PhonePlayout
from core.phone.reply import PhoneReplyChannel
from core.phone.twilio_messages import Connected, Dtmf, Mark, Media, Start, Stop, TwilioMessageError
from core.runtime import VoiceRuntime
from core.session.session import Session
from core.transport.flood_guard import FloodGuard, Verdict
from core.transport.lease import AdmissionRefused, Lease
from core.transport.socket_io import CLOSE_INTERNAL, CLOSE_POLICY, CLOSE_TRY_AGAIN, close, send

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0  # Twilio sends ``start`` right after ``connected``
INBOUND_TRACK = "inbound"


class CallEnded(Exception):
    """The server ends the stream (``code`` for the close frame)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class PhoneCall:
    def __init__(self, ws: Any, runtime: VoiceRuntime, redeem: Callable[[str, object], Redeemed | None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ws = ws
        self._runtime = runtime
        self._settings = runtime.settings
        self._redeem = redeem  # (call_sid, token) -> who is calling, or None
        s = self._settings
        self._guard = FloodGuard(s.messages_per_second, s.inbox_max_messages, s.inbox_max_bytes,
                                 s.max_message_bytes, clock)
        self._inbound = InboundAudio()
        self._session: Session | None = None
        self._bugs = BugLog(runtime.metrics, "phone call")
        self.bad_messages = 0

    def _send(self, text: str) -> None:
        send(self._ws, text)  # from the playout's thread; the socket serializes writes

    def serve(self) -> None:
        metrics = self._runtime.metrics
        try:
            started = self._await_start()
            if started is not None:
                self._call(*started)
        except CallEnded as ended:
            metrics.count(f"phone_ended_{ended.reason}")
            log.info("phone call ended by the server: %s", ended.reason)
            close(self._ws, ended.code, ended.reason)
        except (ConnectionClosed, ConnectionError):
            log.info("phone call: socket closed")

    def _receive(self, timeout: float) -> twilio_messages.TwilioMessage | None:
        """The next well-formed message (``None``: none came in time). Bad ones are counted
        and skipped; a flood ends the call."""
        while True:
            raw = self._ws.receive(timeout=timeout)
            if raw is None:
                return None
            verdict = self._guard.admit()
            if verdict is Verdict.CLOSE:
                raise CallEnded(CLOSE_POLICY, "flooding")
            if verdict is not Verdict.ACCEPT:
                continue
            if isinstance(raw, bytes):
                self._bad("a binary frame (Media Streams sends JSON text)")
                continue
            try:
                return twilio_messages.parse(raw)
            except TwilioMessageError as exc:
                self._bad(str(exc))
            except Exception as exc:  # noqa: BLE001 - a parser bug skips this message, not the call
                self._bugs.report(exc)

    def _bad(self, why: str) -> None:
        self.bad_messages += 1
        self._runtime.metrics.count("error:phone_message")
        if self.bad_messages <= 3 or self.bad_messages % 100 == 0:  # a stream of them logs a few lines
            log.warning("phone call: message skipped (%d so far): %s", self.bad_messages, why)

    def _await_start(self) -> tuple[Start, Redeemed] | None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while (left := deadline - time.monotonic()) > 0:
            message = self._receive(left)
            if message is None:
                break
            if isinstance(message, Start):
                redeemed = self._redeem(message.call_sid, message.custom_parameters.get("call_token"))
                if redeemed is None:
                    self._runtime.metrics.count("refused_phone_token")
                    raise CallEnded(CLOSE_POLICY, "call_token")
                return message, redeemed
            if isinstance(message, Stop):
                return None
            if not isinstance(message, Connected):
                self._bad(f"{type(message).__name__.lower()} before start")
        raise CallEnded(CLOSE_POLICY, "no_start")

    def _call(self, start: Start, caller: Redeemed) -> None:
        runtime = self._runtime
        playout = PhonePlayout(self._send, start.stream_sid, metrics=runtime.metrics)
        reply = PhoneReplyChannel(playout, self._progress, self._played)
        lease = Lease(runtime, owner=self)
        try:
            # Every call comes from Twilio's addresses (or a tunnel's 127.0.0.1): the
            # per-address limit counts the caller the webhook's token names instead.
            session = self._session = lease.admit(caller.caller, lambda session_id: Session(
                session_id, self._settings, runtime.phone_services(), reply, on_broken=self._broken))
        except AdmissionRefused as refused:
            playout.close()
            raise CallEnded(CLOSE_TRY_AGAIN, refused.code) from None
        try:
            runtime.metrics.count("phone_calls")
            log.info("phone call %s: session %s", start.call_sid[-6:], session.id[:8])
            session.open()
            session.start_listening()
            self._stream(session, reply)
        finally:
            lease.release(keep=False)
            playout.close()
            log.info("phone call %s ended", start.call_sid[-6:])

    def _stream(self, session: Session, reply: PhoneReplyChannel) -> None:
        idle_s = self._settings.session_idle_timeout_s
        while True:
            message = self._receive(idle_s)
            if message is None:
                raise CallEnded(CLOSE_POLICY, "idle_timeout")
            if isinstance(message, Stop):
                return
            try:
                self._handle(message, session, reply)
            except (ConnectionClosed, ConnectionError):
                raise
            except Exception as exc:  # noqa: BLE001 - one odd message must not silence the call
                self._bugs.report(exc)

    def _handle(self, message: twilio_messages.TwilioMessage, session: Session,
                reply: PhoneReplyChannel) -> None:
        if isinstance(message, Media):
            if message.track == INBOUND_TRACK and message.payload:
                pcm = self._inbound.convert(message.payload)
                if pcm:
                    session.audio(pcm)
        elif isinstance(message, Mark):
            reply.marked(message.name)
        elif isinstance(message, Dtmf):
            self._runtime.metrics.count("phone_dtmf")
        else:
            self._bad(f"{type(message).__name__.lower()} during the call")

    def _broken(self) -> None:
        """The session cannot send to this call any more: end the stream."""
        close(self._ws, CLOSE_INTERNAL, "internal_error")

    # ----- from the reply channel (this socket's thread) --------------------------------
    def _progress(self, turn: int, played_ms: float) -> None:
        if self._session is not None:
            self._session.playback_progress(turn, played_ms)

    def _played(self, turn: int) -> None:
        if self._session is not None:
            self._session.playback_done(turn)

"""One browser WebSocket's life: admission, the receive loop with its limits, the
client's messages handed to its session, resume, release.

Audio frames are read and handed to the session by the process's reader hub
(core/transport/reader_hub.py), which gives the socket back to this connection's
thread for control messages and for anything that writes or ends the connection.

Whichever side ends the connection, ``serve`` releases the session: a socket that
dropped parks the conversation for a resume (its turn in progress is stopped, its send
thread and buffers released); an idle or flooding client, or a refused resume's fresh
session, is closed for good. The receive loop survives a bug in handling one message:
it is logged once, counted, the client is told ``internal_error``, and the loop goes on.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from simple_websocket import ConnectionClosed

from core.bugs import INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE, BugLog
from core.conversation.events import OutputEvent, ReplyDone
from core.errors import ClientError
from core.providers.choice import FIELDS as PROVIDER_FIELDS
from core.runtime import VoiceRuntime
from core.session.session import Session
from core.session.turn_budget import SESSION_BURST, ReplyBudget, TokenBucket
from core.store.parking import ParkingUnavailable
from core.transport.access import OPEN_SCOPE, AccessPolicy, TicketError, scope_of
from core.transport.control_handlers import HANDLERS
from core.transport.flood_guard import FloodGuard
from core.transport.intake import Ended, Intake, IntakeLimits
from core.transport.lease import AdmissionRefused, Lease, ResumeBusy
from core.transport.reader_hub import ReaderHub
from core.transport.socket_io import (
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    CLOSE_RESTART,
    CLOSE_TRY_AGAIN,
    close,
    refuse,
    send,
)
from core.transport.wire import encode_event, error_message, parse_control, ticket_message

log = logging.getLogger(__name__)


class BrowserPort:
    """The session's output in the browser protocol (docs/protocol.md). ``after_reply``
    runs (on the send thread) once a reply's end has been sent."""

    def __init__(self, ws: Any, after_reply: Callable[[], None] | None = None) -> None:
        self._ws = ws
        self._after_reply = after_reply

    def deliver(self, event: OutputEvent) -> None:
        send(self._ws, encode_event(event))
        if self._after_reply is not None and isinstance(event, ReplyDone):
            self._after_reply()

    def broken(self) -> None:
        """The session cannot send to this client any more: end the connection (the
        receive loop then parks the session for a resume)."""
        close(self._ws, CLOSE_INTERNAL, INTERNAL_ERROR)


AUTH_TIMEOUT_S = 10.0
RESTARTING = "server_restarting"


class VoiceConnection:
    def __init__(self, ws: Any, runtime: VoiceRuntime, address: str, access: AccessPolicy,
                 hub: ReaderHub | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._ws = ws
        self._hub = hub
        self._access = access
        self._scope = OPEN_SCOPE
        self._runtime = runtime
        self._settings = runtime.settings
        self._address = address
        self._clock = clock
        s = self._settings
        self._port = BrowserPort(ws, after_reply=self._copy_to_redis if runtime.parking_writer else None)
        self._lease = Lease(runtime, owner=self, on_let_go=self._taken_elsewhere)
        self._turns = TokenBucket(s.turns_per_minute, SESSION_BURST, clock)
        self._bugs = BugLog(runtime.metrics, "voice connection")

    def _send_error(self, code: str, message: str, retryable: bool | None = None) -> None:
        # Sent from this socket's thread beside the session's outbox thread: the socket
        # orders the writes (core/transport/websocket.py).
        send(self._ws, error_message(code, message, retryable))

    def _copy_to_redis(self) -> None:
        """The conversation as it stands after a reply, copied to Redis (without waiting),
        so it can be resumed elsewhere even if this process is killed outright."""
        writer, session = self._runtime.parking_writer, self._lease.session
        if writer is not None:
            writer.offer(session.id, session.resume_token, session.carried().as_json())

    def _taken_elsewhere(self) -> None:
        """Another process resumed this conversation (its lease moved there): the client
        here is told, and its socket closed."""
        self._tell_and_close("resumed_elsewhere", "This conversation was resumed on another connection.",
                             False, CLOSE_POLICY)

    def shutdown_notice(self) -> None:
        """The server is stopping (SIGTERM): the conversation is parked in Redis (when
        shared) and the client told before its socket closes, so it reconnects and
        resumes (here once the server is back, or on another process)."""
        self._lease.park_shared_now()
        self._tell_and_close(RESTARTING, "The server is restarting; the conversation reconnects in a moment.",
                             True, CLOSE_RESTART)

    def _tell_and_close(self, error: str, message: str, retryable: bool, close_code: int) -> None:
        """From another thread than the socket's (which alone may wait for the client's
        close reply, as ``refuse`` does): the error, then the close."""
        try:
            self._send_error(error, message, retryable)
        except ConnectionError:
            return
        close(self._ws, close_code, error)

    def serve(self) -> None:
        runtime, s = self._runtime, self._settings
        if runtime.draining:
            refuse(self._ws, CLOSE_TRY_AGAIN, RESTARTING, "The server is restarting; try again in a moment.")
            return
        try:
            self._scope = self._authenticate()
        except TicketError as refused:
            runtime.metrics.count(f"refused_{refused.code}")
            refuse(self._ws, CLOSE_POLICY, refused.code, str(refused))
            return
        try:
            session = self._lease.admit(self._address, self._new_session)
        except AdmissionRefused as refused:
            refuse(self._ws, CLOSE_TRY_AGAIN, refused.code, refused.message)
            return
        keep = True  # a dropped socket: the conversation may be resumed
        try:
            session.open()
            guard = FloodGuard(s.messages_per_second, s.inbox_max_messages, s.inbox_max_bytes,
                               s.max_message_bytes, self._clock)
            Intake(self._ws, self._hub, self._lease, guard, self._handle, self._send_error,
                   IntakeLimits(s.session_idle_timeout_s, runtime.metrics, self._bugs, self._clock)).run()
        except Ended as ended:
            keep = ended.keep
            if ended.code is not None:
                runtime.metrics.count(f"closed_{ended.error}")
                refuse(self._ws, ended.code, ended.error, ended.message)
        except (ConnectionClosed, ConnectionError):
            log.info("session %s: socket closed", self._lease.session.id[:8])
        finally:
            self._lease.release(keep)

    def _authenticate(self) -> frozenset[str]:
        """Where tickets are asked for, the first message must be ``auth`` with a good one;
        the client is sent a renewed ticket. Raises ``TicketError``."""
        if not self._access.required:
            return OPEN_SCOPE
        message = self._ws.receive(timeout=AUTH_TIMEOUT_S)
        ticket = None
        if isinstance(message, str):
            try:
                parsed = parse_control(message)
            except ClientError:
                parsed = None
            if parsed is not None and parsed.type == "auth":
                ticket = parsed.data["ticket"]
        grant = self._access.check(ticket)
        assert grant is not None  # (a ticket is required here)
        renewed, renewed_grant = self._access.renewed(grant)
        send(self._ws, ticket_message(renewed, renewed_grant.expires_at))
        return scope_of(grant)

    def _new_session(self, session_id: str) -> Session:
        runtime, s = self._runtime, self._settings
        address_budget = runtime.reply_budgets.bucket(self._address)
        budget = ReplyBudget.for_session(s.reply_tokens_per_minute, address_budget)
        services = dataclasses.replace(runtime.services(), reply_budget=budget)
        return Session(session_id, s, services, self._port, on_broken=self._port.broken)

    def _handle(self, message: str | bytes) -> None:
        session = self._lease.session
        try:
            if isinstance(message, bytes):
                session.audio(message)
                return
            try:
                parsed = parse_control(message)
            except ClientError as exc:
                session.report(exc)
                return
            if parsed.type == "settings" and "providers" not in self._scope and (
                    PROVIDER_FIELDS & parsed.data.keys()):
                session.report(ClientError("not_permitted", "This session's ticket does not allow "
                                           "changing providers; nothing was applied."))
            elif parsed.type == "resume":
                self._resume(parsed.data["session_id"], parsed.data["token"])
            elif parsed.type == "text" and (wait := self._runtime.turn_budgets.turn_allowed(
                    self._address, self._turns)):
                session.report(ClientError("rate_limited", f"Too many messages in a short time; "
                                           f"try again in {math.ceil(wait)} s."))
            else:
                HANDLERS[parsed.type](session, parsed.data)
        except (ConnectionClosed, ConnectionError):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must not end the conversation: say so, keep it
            self._bugs.report(exc)
            self._send_error(INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE, True)

    def _resume(self, session_id: str, token: str) -> None:
        fresh, metrics = self._lease.session, self._runtime.metrics
        if not fresh.fresh:
            fresh.report(ClientError("out_of_order", "resume must come before anything else"))
            return
        try:
            resumed = self._lease.take_over(session_id, token)
        except ParkingUnavailable:
            metrics.count("resume_refused")
            fresh.report(ClientError("resume_refused", "That conversation cannot be resumed right now (the "
                                     "shared session store is unreachable); this is a new one."))
            return
        except ResumeBusy:
            metrics.count("resume_refused")
            fresh.report(ClientError("resume_refused", "That conversation is still open on another server "
                                     "that did not let it go; this is a new one."))
            return
        if resumed is None:
            metrics.count("resume_refused")
            fresh.report(ClientError("resume_refused", "That conversation cannot be resumed (unknown, "
                                     "expired or wrong token); this is a new one."))
            return
        resumed.attach(self._port, on_broken=self._port.broken)
        self._lease.epoch = resumed.epoch
        if self._runtime.parking_writer is not None:
            self._copy_to_redis()  # under its new token: the copy under the old one is spent
        metrics.count("resumed")
        log.info("session %s resumed", session_id[:8])

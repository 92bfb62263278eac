"""A WebSocket that is read by the thread that serves it: one thread per socket, not two.

simple-websocket's ``Server`` starts a reader thread per connection: it waits on the
socket, parses frames, answers pings, and wakes the socket's own thread (waiting in
``receive``) through an event. Every 20 ms audio frame thus woke two threads, and each
had to win the GIL back among all the others: most of the CPU a frame cost was those
wake-ups, not the work. ``SingleThreadServer`` starts no reader thread: ``receive``
itself waits on the socket (up to the next ping or the caller's timeout), reads and
parses in the calling thread, so a frame wakes one thread once.

As simple-websocket does it (its reader loop, redone for the caller):

- a ping every ``ping_interval`` s; at the next one, a peer that has not answered the
  last is closed (1008, ``Ping/Pong timeout``) and its socket dropped at once;
- a message over ``max_message_size`` is answered with a close 1009;
- ``receive(timeout)`` returns ``None`` when nothing came in time (pings go on meanwhile);
  once the connection is closed, the messages received before are still returned, then
  ``ConnectionClosed`` is raised;
- ``send`` and ``close`` may be called from other threads while the owner reads.

What differs:

- Two locks where simple-websocket had none (its reader and the caller's threads wrote
  unlocked): one over wsproto's state (not thread-safe; nor is permessage-deflate's),
  held briefly, and one over writes to the socket, taken before the first is let go so
  frames leave in the order they were made. Reading a message never waits for a write:
  only a reply the protocol owes (a pong, a close) does, as in simple-websocket.
- A peer that stops reading: a write that waits ``STUCK_WRITE_S`` behind another (stuck
  on a full socket buffer) cuts the connection, which also frees the stuck writer. So a
  dead peer is found even while the outbox is blocked on it (simple-websocket's reader
  would block on its ping for ever), and no write holds the socket's thread for good.
- Pings and pongs are handled only while the owner is in ``receive`` or ``wait_closed``;
  a handler must keep receiving (the voice connection does: handling a message is short).
- Messages not read yet wait in the kernel's socket buffer, where TCP holds back a client
  that sends faster than the server works; parsed ahead (``input_buffer``) is at most
  one read's worth (``receive_bytes``).
- After its own close frame the server reads the client's reply in ``wait_closed``
  (simple-websocket's reader thread did it in the background), then drops the socket.

``core.transport.websocket_route.SingleThreadSock`` gives Flask routes that use it.
"""

from __future__ import annotations

import logging
import math
import selectors
import socket
import threading
import time
from typing import Any

from simple_websocket import ConnectionClosed, Server
from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection, Message, Ping, TextMessage
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import LocalProtocolError

from core.transport.websocket_parts import NoEvent, NoReaderThread, Replies

log = logging.getLogger(__name__)

CLOSE_REPLY_WAIT_S = 2.0  # how long a server-initiated close waits for the client's reply
STUCK_WRITE_S = 10.0  # a write waiting this long behind another: the peer reads nothing, cut it


class SingleThreadServer(Server):
    """A ``simple_websocket.Server`` without a reader thread (see the module's docstring)."""

    def __init__(self, environ: dict[str, Any], subprotocols: list[str] | None = None,
                 receive_bytes: int = 4096, ping_interval: float | None = None,
                 max_message_size: int | None = None) -> None:
        self._state_lock = threading.Lock()  # wsproto, ``connected``, the order of frames
        self._write_lock = threading.Lock()  # one write on the socket at a time
        self._socket_closed = False
        self._protocol_error = False
        super().__init__(environ, subprotocols=subprotocols, receive_bytes=receive_bytes,
                         ping_interval=ping_interval, max_message_size=max_message_size,
                         thread_class=NoReaderThread, event_class=NoEvent)
        self._socket: socket.socket = self.sock  # the handshake's reply went out directly
        self._replies = self.sock = Replies()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._socket, selectors.EVENT_READ)
        self._next_ping = time.monotonic() + ping_interval if ping_interval else math.inf

    # -- writing (any thread) --------------------------------------------------------------

    def send(self, data: str | bytes) -> None:
        frame = Message(data=data) if isinstance(data, bytes) else TextMessage(data=str(data))
        with self._state_lock:
            if not self.connected:
                raise ConnectionClosed(self.close_reason, self.close_message)
            out = self.ws.send(frame)
            if not self._acquire_write():
                raise ConnectionClosed(self.close_reason, self.close_message)
        try:
            self._socket.sendall(out)
        finally:
            self._write_lock.release()

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        """Send a close frame (default 1000). The client's reply is read by ``receive`` or
        ``wait_closed``, which then drop the socket."""
        with self._state_lock:
            if not self.connected:
                raise ConnectionClosed(self.close_reason, self.close_message)
            self.connected = False
            out = self.ws.send(CloseConnection(reason or CloseReason.NORMAL_CLOSURE, message))
            if not self._acquire_write():
                return
        self._write_and_release(out)

    def _acquire_write(self) -> bool:
        """Under the state lock: take the write lock before the state lock goes, so frames
        leave in the order they were made. ``False``: a write is stuck (see ``STUCK_WRITE_S``)
        and the connection has been cut."""
        if self._write_lock.acquire(timeout=STUCK_WRITE_S):
            return True
        log.info("websocket write stuck for %.0f s: the peer reads nothing; cut", STUCK_WRITE_S)
        self.connected = False
        self._shutdown()
        return False

    def _shutdown(self) -> None:
        """Under the state lock: end both directions. A blocked write fails at once, and the
        owner's wait on the socket sees the end; the owner then drops the socket."""
        if self._socket_closed:
            return
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError as exc:  # not connected any more
            log.debug("websocket shutdown: %s", exc)

    def _write_and_release(self, out: bytes) -> bool:
        """Write ``out`` (the write lock is held) and let the lock go. A failed write is
        reported to the caller, or noticed by the owner's next read."""
        try:
            self._socket.sendall(out)
        except OSError as exc:
            log.debug("websocket write failed: %s", exc)
            return False
        finally:
            self._write_lock.release()
        return True

    # -- reading (the owner thread, which alone drops the socket) ----------------------------

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        """The next message; ``None`` if none came within ``timeout`` s (``None``: wait
        as long as it takes, 0: only what can be read without waiting). Once the
        connection is closed, the messages received before are returned, then
        ``ConnectionClosed`` is raised."""
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        looked = False  # at least one look at the socket, even with timeout 0
        if self._replies.pending:
            self.send_replies()  # left by a reader serving many sockets (``ReaderHub``)
        while not self.input_buffer:
            if not self.connected:
                raise ConnectionClosed(self.close_reason, self.close_message)
            now = time.monotonic()
            if now >= self._next_ping:
                self._heartbeat(now)
                continue
            if looked and now >= deadline:
                return None
            looked = True
            wait = min(self._next_ping, deadline) - now
            if self._selector.select(None if wait == math.inf else max(wait, 0.0)):
                self._read()
        return self.input_buffer.pop(0)

    def wait_closed(self, timeout: float = CLOSE_REPLY_WAIT_S) -> None:
        """After our close frame: read until the client's reply (up to ``timeout`` s), then
        drop the socket. Messages still arriving meanwhile are discarded."""
        deadline = time.monotonic() + timeout
        while not self._socket_closed and self.ws.state is ConnectionState.LOCAL_CLOSING:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                break
            self._read()
            self.input_buffer.clear()
        self._drop_socket()

    def _read(self, wait_for_write: bool = True) -> bool:
        """One read from the socket (it is readable): parsed, and answered if need be.
        With ``wait_for_write`` False (a reader serving many sockets) a reply that would
        wait for another write is kept for the owner and False returned."""
        try:
            data = self._socket.recv(self.receive_bytes)
        except OSError:
            data = b""  # reset: as good as gone
        if not data:  # the peer went away without a close handshake
            self._drop_socket()
            return True
        with self._state_lock:
            if self._socket_closed:
                return True
            try:
                self.ws.receive_data(data)
                # simple-websocket's: messages and their size limit, pings, pongs, closes
                keep_going = self._handle_events()
            except LocalProtocolError:
                keep_going = False
            if not keep_going:
                self.connected = False
            self._protocol_error = not keep_going
        return self.send_replies(wait_for_write)

    def send_replies(self, wait_for_write: bool = True) -> bool:
        """Write what the protocol owes the peer (pongs, a close reply), then drop the
        socket if the connection is over. False: not written, as the write lock was busy
        and ``wait_for_write`` False (the replies stay pending)."""
        with self._state_lock:
            if self._socket_closed:
                return True
            state = self.ws.state
            replies = self._replies.take()
            if replies and not wait_for_write and not self._write_lock.acquire(blocking=False):
                self._replies.pending = replies + self._replies.pending
                return False
            if replies and wait_for_write and not self._acquire_write():
                replies, state = b"", ConnectionState.CLOSED
        written = self._write_and_release(replies) if replies else True
        if not written or state is ConnectionState.CLOSED:
            self._drop_socket()  # the close handshake is over, or the connection is broken
        elif self._protocol_error and state is not ConnectionState.LOCAL_CLOSING:
            self._drop_socket()  # a protocol error: no close reply to wait for
        return True

    @property
    def socket_closed(self) -> bool:
        return self._socket_closed

    def fileno(self) -> int:
        return self._socket.fileno()

    def heartbeat_due(self, now: float) -> bool:
        return now >= self._next_ping

    def heartbeat(self, now: float) -> None:
        """The ping (or the ping timeout's close) that is due, from a reader serving many
        sockets; skipped for a second when another write holds the socket."""
        if self._write_lock.locked():
            self._next_ping = now + 1.0
            return
        self._heartbeat(now)

    def _heartbeat(self, now: float) -> None:
        """A ping every ``ping_interval``. A peer that left the last one unanswered is closed
        without waiting for a reply: it would not come."""
        assert self.ping_interval
        self._next_ping = max(now, self._next_ping) + self.ping_interval
        with self._state_lock:
            if not self.connected:
                return
            answered, self.pong_received = self.pong_received, False
            if answered:
                out = self.ws.send(Ping())
            else:
                self.connected = False
                out = self.ws.send(CloseConnection(CloseReason.POLICY_VIOLATION, "Ping/Pong timeout"))
            if not self._acquire_write():
                out = b""
        if out and self._write_and_release(out) and answered:
            return
        self._drop_socket()

    def _drop_socket(self) -> None:
        """Close the socket (once). A write in flight is cut short first, then waited for."""
        with self._state_lock:
            self.connected = False  # no write starts from now on
            if self._socket_closed:
                return
            self._shutdown()
            self._socket_closed = True
            with self._write_lock:
                self._selector.close()
                self._socket.close()

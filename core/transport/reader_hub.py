"""One thread that reads every idle-or-talking voice socket, instead of one thread each.

Measured at 80 talking sessions with a thread per socket (``perf``), 37 % of the
server's CPU was the kernel, most of it switching threads: every 20 ms frame woke its
socket's thread, which then had to win the GIL back among all the others. Here one
thread waits on all sockets at once (``epoll``) and serves them in rounds: it reads
every socket that is ready, stages each audio frame with its connection (``on_audio``:
the limits, then the session's first step), runs the speech model once for all of the
round's frames (core/audio/neural_vad.py: ``VoiceBatch``), then lets each session hear
its frames, in order. A busy server serves many frames per wake-up and per model call.

Ownership: a socket is read by the hub *or* by its connection's own thread, never
both. The hub gives a socket back (and wakes the thread) for anything that is not
plain audio, so control messages, writes that may wait and the end of a connection
stay on the connection's thread, in the order they came:

- a text message (a control message: it may take time, or write to the socket);
- an action ``on_audio`` asks for (``HandBack``: a warning to send, the end);
- the socket closed, or a protocol reply that would have to wait for another write.

The thread then reads on its own (``receive(timeout=0)``) until nothing is waiting,
and ``give``s the socket back. Pings are sent by the hub while it holds a socket.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable

from core.audio.neural_vad import VoiceBatch
from core.transport.websocket import SingleThreadServer

log = logging.getLogger(__name__)

HEARTBEAT_CHECK_S = 1.0  # how often the hub looks for pings that are due

# A frame's first step (its speech model's part into the round's batch); it returns the
# step left for once the batch has run.
OnAudio = Callable[[bytes, VoiceBatch], Callable[[], None]]


class HandBack(Exception):
    """Raised by ``on_audio``: the connection's thread must take over (``action`` runs
    there, first; it may write, or raise to end the connection)."""

    def __init__(self, action: Callable[[], None]) -> None:
        super().__init__("hand back")
        self.action = action


class Membership:
    """A socket's place in the hub, held by its connection's thread."""

    def __init__(self, hub: ReaderHub, ws: SingleThreadServer, on_audio: OnAudio) -> None:
        self.hub = hub
        self.ws = ws
        self.on_audio = on_audio
        self.lock = threading.Lock()  # held by the hub while it serves this socket
        self.returned = threading.Event()  # set when the hub gives the socket back
        self.in_hub = False
        self.fd = -1
        self.last_message_at = time.monotonic()
        self.actions: list[Callable[[], None]] = []

    def give(self) -> None:
        """The hub reads the socket from now on (the caller must not)."""
        self.returned.clear()
        self.hub.add(self)

    def wait_returned(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the hub to give the socket back."""
        return self.returned.wait(timeout)

    def take_back(self) -> None:
        """The caller reads the socket from now on (waits if the hub is serving it)."""
        self.hub.remove(self)

    def take_actions(self) -> list[Callable[[], None]]:
        with self.lock:
            actions, self.actions = self.actions, []
        return actions


class ReaderHub:
    def __init__(self, name: str = "voice-reader", batched: bool = True) -> None:
        self.batched = batched  # the speech model for all the frames of a round in one call
        self._epoll = select.epoll()
        self._members: dict[int, Membership] = {}
        self._lock = threading.Lock()
        self._wake_read, self._wake_write = os.pipe()
        self._epoll.register(self._wake_read, select.EPOLLIN)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def join(self, ws: SingleThreadServer, on_audio: OnAudio) -> Membership:
        """A membership for ``ws`` (not yet given to the hub)."""
        return Membership(self, ws, on_audio)

    @property
    def size(self) -> int:
        with self._lock:
            return len(self._members)

    # -- called by the connections' threads -----------------------------------------------

    def add(self, member: Membership) -> None:
        with member.lock, self._lock:
            if self._stopping or member.ws.socket_closed:
                member.returned.set()
                return
            member.fd = member.ws.fileno()
            self._members[member.fd] = member
            member.in_hub = True
            self._epoll.register(member.fd, select.EPOLLIN)

    def remove(self, member: Membership) -> None:
        with member.lock:
            self._release(member)

    def stop(self) -> None:
        """Give every socket back to its thread and end the hub's thread."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            members = list(self._members.values())
        os.write(self._wake_write, b"x")
        for member in members:
            self.remove(member)
        self._thread.join(timeout=5)
        self._epoll.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    # -- the hub's thread -----------------------------------------------------------------

    def _release(self, member: Membership) -> None:
        """Under ``member.lock``: out of the hub, its thread woken."""
        if member.in_hub:
            member.in_hub = False
            with self._lock:
                if self._members.get(member.fd) is member:
                    del self._members[member.fd]
                    if not member.ws.socket_closed:  # (a closed socket has left the epoll)
                        self._epoll.unregister(member.fd)
        member.returned.set()

    def _run(self) -> None:
        next_heartbeat = time.monotonic() + HEARTBEAT_CHECK_S
        while not self._stopping:
            try:
                ready = self._epoll.poll(max(0.0, next_heartbeat - time.monotonic()))
            except OSError as exc:  # the epoll was closed by ``stop``
                log.debug("reader hub: %s", exc)
                return
            with self._lock:
                members = [m for fd, _ in ready if (m := self._members.get(fd)) is not None]
            if members:
                self._serve_round(members)
            now = time.monotonic()
            if now >= next_heartbeat:
                next_heartbeat = now + HEARTBEAT_CHECK_S
                self._heartbeats(now)

    def _serve_round(self, members: list[Membership]) -> None:
        """Read every ready socket, run the speech model once for all the frames read,
        then let each session hear its frames; sockets with anything else go back."""
        batch = VoiceBatch(self.batched)
        staged: list[tuple[Membership, list[Callable[[], None]], bool]] = []
        for member in members:
            with member.lock:
                if member.in_hub:
                    staged.append((member, *self._read(member, batch)))
        try:
            batch.run()
        except Exception as exc:
            log.exception("reader hub: the speech model failed")
            staged = [(member, [_reraise(exc)], True) for member, _, _ in staged]
        for member, hears, give_back in staged:
            with member.lock:
                if not member.in_hub:
                    continue  # taken back meanwhile: its connection is ending
                for hear in hears:
                    if not self._call(member, hear):
                        give_back = True
                        break
                if give_back or member.ws.socket_closed or not member.ws.connected:
                    self._release(member)

    def _read(self, member: Membership, batch: VoiceBatch) -> tuple[list[Callable[[], None]], bool]:
        """Under ``member.lock``: one read; each audio frame staged (what is left to do once
        the batch has run), and whether the socket must go back to its thread."""
        ws = member.ws
        give_back = not ws._read(wait_for_write=False)
        hears: list[Callable[[], None]] = []
        buffer = ws.input_buffer
        while buffer and not give_back:
            message = buffer[0]
            if not isinstance(message, bytes):
                give_back = True  # a control message: for the connection's thread
                break
            del buffer[0]
            member.last_message_at = time.monotonic()
            if not self._call(member, lambda m=message: hears.append(member.on_audio(m, batch))):
                give_back = True
        return hears, give_back

    @staticmethod
    def _call(member: Membership, step: Callable[[], object]) -> bool:
        """Run one of ``member``'s steps; False when its thread must take over."""
        try:
            step()
        except HandBack as back:
            member.actions.append(back.action)
            return False
        except Exception as exc:  # noqa: BLE001 - never the hub's end: the connection's
            member.actions.append(_reraise(exc))
            return False
        return True

    def _heartbeats(self, now: float) -> None:
        with self._lock:
            members = list(self._members.values())
        for member in members:
            with member.lock:
                if member.in_hub and member.ws.heartbeat_due(now):
                    member.ws.heartbeat(now)
                    if member.ws.socket_closed or not member.ws.connected:
                        self._release(member)


def _reraise(exc: BaseException) -> Callable[[], None]:
    def action() -> None:
        raise exc

    return action

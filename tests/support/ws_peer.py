"""The browser's end of a WebSocket over a real socket pair, for the tests of
``SingleThreadServer`` and the reader hub: each test decides exactly what the client
sends, answers and reads."""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Event, Ping, TextMessage

from core.transport.websocket import SingleThreadServer

UPGRADE = {"HTTP_HOST": "localhost", "HTTP_UPGRADE": "websocket", "HTTP_CONNECTION": "Upgrade",
           "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==", "HTTP_SEC_WEBSOCKET_VERSION": "13"}


class Peer:
    """The browser's end of the socket. As in a browser, writing never holds up reading:
    frames go out from a writer thread of their own."""

    def __init__(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        self.sock = sock
        self.conn = Connection(ConnectionType.CLIENT)
        self._events: list[Event] = []
        self._make = threading.Lock()  # frames are made by the test's thread and the reader
        self._outgoing: queue.Queue[bytes | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._write, daemon=True)]
        self._threads[0].start()
        head = b""
        while b"\r\n\r\n" not in head:  # the server's 101 reply
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        self.conn.receive_data(head.split(b"\r\n\r\n", 1)[1])

    def send(self, event: Event) -> None:
        with self._make:
            self._outgoing.put(self.conn.send(event))

    def _write(self) -> None:
        while (data := self._outgoing.get()) is not None:
            try:
                self.sock.sendall(data)
            except OSError:  # the server dropped the socket: the test looks at what it got
                return

    def next_event(self) -> Event | None:
        """The next event from the server; ``None`` once its socket is closed."""
        while not self._events:
            self._events.extend(self.conn.events())
            if self._events:
                break
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:  # the server dropped the socket without a close
                return None
            if not data:
                return None
            self.conn.receive_data(data)
        return self._events.pop(0)

    def serve(self, received: queue.Queue[Event | None]) -> None:
        """Read in the background: answer pings and the server's close, queue the rest
        (messages whole), then ``None`` at the end of the stream."""

        def run() -> None:
            parts: list[bytes | str] = []
            while (event := self.next_event()) is not None:
                if isinstance(event, Ping):
                    self.send(event.response())
                    continue
                if isinstance(event, (BytesMessage, TextMessage)):
                    parts.append(event.data)
                    if not event.message_finished:
                        continue  # a message arrives in parts as it crosses the socket
                    whole = b"".join(parts) if isinstance(event, BytesMessage) else "".join(parts)
                    event = type(event)(data=whole)
                    parts = []
                received.put(event)
                if isinstance(event, CloseConnection):
                    self.send(event.response())
                    break
            received.put(None)

        self._threads.append(threading.Thread(target=run, daemon=True))
        self._threads[-1].start()

    def stop(self) -> None:
        self._outgoing.put(None)
        for thread in self._threads:
            thread.join(timeout=5)


Pair = tuple[socket.socket, socket.socket, list[Peer]]


@pytest.fixture
def make_pair() -> Iterator[Callable[[], Pair]]:
    """Socket pairs, each closed (and its peers stopped) after the test."""
    made: list[Pair] = []

    def make() -> Pair:
        server_end, client_end = socket.socketpair()
        made.append((server_end, client_end, []))
        return made[-1]

    yield make
    for server_end, client_end, peers in made:
        server_end.close()  # the peer's reader sees the end of the stream
        for peer in peers:
            peer.stop()
        client_end.close()


@pytest.fixture
def pair(make_pair: Callable[[], Pair]) -> Pair:
    return make_pair()


def open_ws(pair: Pair, **options: float | int) -> tuple[SingleThreadServer, Peer]:
    server_end, client_end, peers = pair
    ws = SingleThreadServer({**UPGRADE, "gunicorn.socket": server_end}, **options)  # type: ignore[arg-type]
    peers.append(Peer(client_end))
    return ws, peers[-1]

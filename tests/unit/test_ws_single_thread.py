"""core/transport/websocket.py: a WebSocket read by its own thread, over a real socket pair.

The client end is wsproto's frame layer on the other half of the pair: each test decides
exactly what the client sends, answers and reads."""

from __future__ import annotations

import queue
import threading
import time

import pytest
from simple_websocket import ConnectionClosed
from wsproto.events import BytesMessage, CloseConnection, Event, Message, Ping, Pong, TextMessage

from core.transport import websocket as ws_single_thread
from core.transport.websocket import SingleThreadServer
from tests.support.wait import wait_until
from tests.support.ws_peer import UPGRADE, open_ws


def test_no_reader_thread_is_started(pair, monkeypatch) -> None:
    # Counted where threads start, not process-wide (other tests' threads come and go).
    started: list[threading.Thread] = []
    start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self), start(self))[1])
    ws = SingleThreadServer({**UPGRADE, "gunicorn.socket": pair[0]}, ping_interval=0.05)  # type: ignore[arg-type]
    assert ws.connected and ws.mode == "gunicorn"
    assert started == []


def test_messages_arrive_in_the_owner_thread_and_pongs_keep_the_peer(pair) -> None:
    # The peer has a ping interval to answer each ping: long enough for a busy machine.
    ws, peer = open_ws(pair, ping_interval=0.25)
    peer.serve(queue.Queue())
    started = time.monotonic()
    assert ws.receive(timeout=1.0) is None  # nothing came: four pings went out and were answered
    assert time.monotonic() - started >= 1.0 and ws.connected
    peer.send(Message(data=b"\x01" * 640))
    peer.send(TextMessage(data='{"type": "ping"}'))
    assert ws.receive(timeout=5) == b"\x01" * 640
    assert ws.receive(timeout=5) == '{"type": "ping"}'


def test_receive_with_timeout_zero_takes_what_is_there(pair) -> None:
    ws, peer = open_ws(pair)
    assert ws.receive(timeout=0) is None
    peer.send(Message(data=b"abc"))
    assert ws.receive(timeout=5) == b"abc"  # (waits for it to cross the socket)
    peer.send(Message(data=b"def"))
    received = None
    while received is None:  # the same, without ever waiting
        received = ws.receive(timeout=0)
    assert received == b"def"


def test_a_peer_that_stops_answering_pings_is_closed(pair) -> None:
    ws, peer = open_ws(pair, ping_interval=0.05)  # the peer never reads: never pongs
    started = time.monotonic()
    with pytest.raises(ConnectionClosed):
        ws.receive(timeout=5)
    assert time.monotonic() - started < 2  # at the second ping, not at the timeout
    assert not ws.connected
    assert isinstance(peer.next_event(), Ping)
    close = peer.next_event()
    assert isinstance(close, CloseConnection) and close.code == 1008 and close.reason == "Ping/Pong timeout"
    assert peer.next_event() is None  # and the socket is dropped at once


def test_a_peer_that_reads_nothing_is_cut_even_while_a_send_to_it_is_stuck(pair, monkeypatch) -> None:
    monkeypatch.setattr(ws_single_thread, "STUCK_WRITE_S", 0.3)
    ws, _peer = open_ws(pair, ping_interval=0.05)  # the peer reads nothing
    failures: list[Exception] = []

    def outbox() -> None:
        try:
            ws.send(b"\x00" * 8_000_000)  # far more than the socket buffers hold: the write blocks
        except (ConnectionClosed, OSError) as exc:
            failures.append(exc)

    sender = threading.Thread(target=outbox)
    sender.start()
    wait_until(ws._write_lock.locked, 5, "the write to block")
    started = time.monotonic()
    with pytest.raises(ConnectionClosed):
        ws.receive(timeout=5)  # its ping waits behind the stuck write, then cuts the connection
    assert time.monotonic() - started < 3
    sender.join(timeout=5)
    assert not sender.is_alive() and isinstance(failures[0], OSError)  # the stuck write was freed


def test_a_message_over_the_limit_closes_with_1009(pair) -> None:
    ws, peer = open_ws(pair, max_message_size=4096)
    received: queue.Queue[Event | None] = queue.Queue()
    peer.serve(received)
    peer.send(Message(data=b"small"))
    peer.send(Message(data=b"\x00" * 10_000))
    assert ws.receive(timeout=5) == b"small"
    with pytest.raises(ConnectionClosed):
        ws.receive(timeout=5)
    close = received.get(timeout=5)
    assert isinstance(close, CloseConnection) and close.code == 1009
    ws.wait_closed()  # the client's reply to the 1009 is read, then the socket is dropped
    assert received.get(timeout=5) is None


def test_sends_from_another_thread_while_the_owner_reads(pair) -> None:
    ws, peer = open_ws(pair)  # (no heartbeat: a peer thread slow to pong on a busy machine is not the point)
    received: queue.Queue[Event | None] = queue.Queue()
    peer.serve(received)
    count = 300

    def outbox() -> None:
        for n in range(count):
            ws.send(n.to_bytes(2, "big") * 1000)
            ws.send(f"event {n}")

    got: list[bytes | str | None] = []
    owner = threading.Thread(target=lambda: got.extend(ws.receive(timeout=5) for _ in range(count)))
    sender = threading.Thread(target=outbox)
    owner.start()
    sender.start()
    for n in range(count):  # the client sends while the owner reads and the outbox writes
        peer.send(Message(data=n.to_bytes(2, "big") * 320))
        if n % 10 == 0:
            peer.send(Ping(payload=n.to_bytes(2, "big")))  # the owner's pongs: writes from its thread
    owner.join(timeout=10)
    sender.join(timeout=10)
    assert got == [n.to_bytes(2, "big") * 320 for n in range(count)]
    sent: list[bytes | str] = []
    pongs: list[bytes] = []
    while len(sent) < 2 * count or len(pongs) < count // 10:
        event = received.get(timeout=5)
        if isinstance(event, Pong):
            pongs.append(bytes(event.payload))
            continue
        assert isinstance(event, (BytesMessage, TextMessage))
        sent.append(event.data)
    expected: list[bytes | str] = []
    for n in range(count):
        expected += [n.to_bytes(2, "big") * 1000, f"event {n}"]
    assert sent == expected  # whole frames, in order: the writes never interleaved
    assert pongs == [n.to_bytes(2, "big") for n in range(0, count, 10)]
    assert ws.connected


def test_the_client_closes(pair) -> None:
    ws, peer = open_ws(pair)
    peer.send(Message(data=b"last"))
    peer.send(CloseConnection(code=1001, reason="going away"))
    assert ws.receive(timeout=5) == b"last"  # what came before the close is still delivered
    with pytest.raises(ConnectionClosed) as closed:
        ws.receive(timeout=5)
    assert closed.value.reason == 1001 and closed.value.message == "going away"
    reply = peer.next_event()
    assert isinstance(reply, CloseConnection) and reply.code == 1001
    assert peer.next_event() is None
    with pytest.raises(ConnectionClosed):
        ws.send("too late")


def test_the_server_closes_and_waits_for_the_reply(pair) -> None:
    ws, peer = open_ws(pair)
    received: queue.Queue[Event | None] = queue.Queue()
    peer.serve(received)
    ws.send('{"type": "error"}')
    ws.close(reason=1013, message="server_full")
    with pytest.raises(ConnectionClosed):
        ws.send("after the close")
    ws.wait_closed(timeout=5)
    assert isinstance(received.get(timeout=5), TextMessage)
    close = received.get(timeout=5)
    assert isinstance(close, CloseConnection) and (close.code, close.reason) == (1013, "server_full")
    assert received.get(timeout=5) is None  # the reply was read, then the socket closed


def test_a_silent_client_does_not_hold_the_close_past_its_wait(pair) -> None:
    ws, peer = open_ws(pair)
    ws.close(reason=1008)
    started = time.monotonic()
    ws.wait_closed(timeout=0.2)  # no reply comes
    assert 0.2 <= time.monotonic() - started < 2
    assert isinstance(peer.next_event(), CloseConnection) and peer.next_event() is None


def test_a_pong_for_an_unsent_ping_and_a_client_ping_are_handled(pair) -> None:
    ws, peer = open_ws(pair)
    peer.send(Pong(payload=b"unsolicited"))
    peer.send(Ping(payload=b"are you there"))
    peer.send(Message(data=b"after"))
    assert ws.receive(timeout=5) == b"after"
    pong = peer.next_event()
    assert isinstance(pong, Pong) and pong.payload == b"are you there"

"""core/transport/reader_hub.py: one thread reads many sockets; a socket is read by the
hub or by its owner, never both, and messages keep their order across the handovers.
Real socket pairs; the client end is wsproto's frame layer (tests/support/ws_peer.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from simple_websocket import ConnectionClosed
from wsproto.events import CloseConnection, Message, Ping, TextMessage

from core.audio.neural_vad import VoiceBatch
from core.transport import reader_hub as hub_module
from core.transport.reader_hub import HandBack, ReaderHub
from tests.support.wait import wait_until
from tests.support.ws_peer import open_ws


@pytest.fixture
def hub() -> Iterator[ReaderHub]:
    made = ReaderHub()
    yield made
    made.stop()


class Heard:
    """What ``on_audio`` got, and on which thread; its second step (once the round's
    batch has run) records the frame again."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.heard: list[bytes] = []
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, frame: bytes, batch: VoiceBatch) -> Callable[[], None]:
        assert isinstance(batch, VoiceBatch)
        with self.lock:
            self.frames.append(frame)
            self.threads.add(threading.current_thread().name)
        return lambda: self.heard.append(frame)

    def count(self) -> int:
        with self.lock:
            return len(self.frames)


def test_audio_goes_to_the_hub_and_a_control_message_back_to_the_owner_in_order(pair, hub) -> None:
    ws, peer = open_ws(pair)
    heard = Heard()
    member = hub.join(ws, heard)
    member.give()
    for i in range(5):
        peer.send(Message(data=bytes([i]) * 640))
    peer.send(TextMessage(data='{"type": "stop"}'))
    peer.send(Message(data=b"\x09" * 640))
    assert member.wait_returned(5), "the control message did not bring the socket back"
    assert heard.frames == heard.heard == [bytes([i]) * 640 for i in range(5)]
    assert heard.threads == {"voice-reader"}
    # The owner reads what came from the control message on, in order.
    assert ws.receive(timeout=5) == '{"type": "stop"}'
    assert ws.receive(timeout=5) == b"\x09" * 640
    assert ws.receive(timeout=0) is None
    member.give()  # and the hub reads again
    peer.send(Message(data=b"\x0a" * 640))
    wait_until(lambda: heard.count() == 6, 5, "the next frame in the hub")
    assert hub.size == 1


def test_an_action_asked_for_runs_on_the_owner_thread(pair, hub) -> None:
    ws, peer = open_ws(pair)
    ran_on: list[str] = []

    def on_audio(frame: bytes, batch: VoiceBatch) -> Callable[[], None]:
        if frame == b"warn":
            raise HandBack(lambda: ran_on.append(threading.current_thread().name))
        return lambda: None

    member = hub.join(ws, on_audio)
    member.give()
    peer.send(Message(data=b"fine"))
    peer.send(Message(data=b"warn"))
    assert member.wait_returned(5)
    for action in member.take_actions():
        action()
    assert ran_on == [threading.current_thread().name]
    assert member.take_actions() == []


def test_a_bug_in_on_audio_is_raised_on_the_owner_thread_and_the_hub_goes_on(make_pair, hub) -> None:
    first, first_peer = open_ws(make_pair())
    second, second_peer = open_ws(make_pair())
    heard = Heard()

    def broken(frame: bytes, batch: VoiceBatch) -> Callable[[], None]:
        raise RuntimeError("a bug")

    broken_member, member = hub.join(first, broken), hub.join(second, heard)
    broken_member.give()
    member.give()
    first_peer.send(Message(data=b"x"))
    assert broken_member.wait_returned(5)
    with pytest.raises(RuntimeError, match="a bug"):
        for action in broken_member.take_actions():
            action()
    second_peer.send(Message(data=b"y"))
    wait_until(lambda: heard.count() == 1, 5, "the other socket still served")


def test_the_peer_going_away_gives_the_socket_back_closed(pair, hub) -> None:
    ws, peer = open_ws(pair)
    member = hub.join(ws, Heard())
    member.give()
    peer.send(CloseConnection(code=1000))
    assert member.wait_returned(5)
    with pytest.raises(ConnectionClosed):
        ws.receive(timeout=1)
    assert hub.size == 0


def test_the_hub_pings_and_closes_a_peer_that_stops_answering(pair, monkeypatch) -> None:
    monkeypatch.setattr(hub_module, "HEARTBEAT_CHECK_S", 0.05)
    stopped = ReaderHub()  # (started after the patch: its heartbeat checks come every 50 ms)
    try:
        ws, peer = open_ws(pair, ping_interval=0.1)  # the peer never reads: never pongs
        member = stopped.join(ws, Heard())
        member.give()
        assert member.wait_returned(5), "a silent peer was kept"
        assert isinstance(peer.next_event(), Ping)
        close = peer.next_event()
        assert isinstance(close, CloseConnection) and close.code == 1008
        with pytest.raises(ConnectionClosed):
            ws.receive(timeout=1)
    finally:
        stopped.stop()


def test_take_back_and_stop_return_the_socket_to_its_owner(pair, hub) -> None:
    ws, peer = open_ws(pair)
    member = hub.join(ws, Heard())
    member.give()
    member.take_back()
    assert member.returned.is_set() and hub.size == 0
    peer.send(Message(data=b"mine"))
    assert ws.receive(timeout=5) == b"mine"  # the owner reads; the hub does not
    member.give()
    hub.stop()
    assert member.returned.is_set() and hub.size == 0


def test_a_bug_in_the_second_step_is_the_connections_and_later_frames_wait_for_it(pair, hub) -> None:
    ws, peer = open_ws(pair)

    def second_step_fails(frame: bytes, batch: VoiceBatch) -> Callable[[], None]:
        def hear() -> None:
            if frame == b"bad":
                raise RuntimeError("a bug after the batch")
        return hear

    member = hub.join(ws, second_step_fails)
    member.give()
    peer.send(Message(data=b"bad"))
    assert member.wait_returned(5)
    with pytest.raises(RuntimeError, match="after the batch"):
        for action in member.take_actions():
            action()

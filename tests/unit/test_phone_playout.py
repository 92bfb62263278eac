"""A call's outgoing side: frames paced in real time with marks among them, ``clear``
dropping everything queued, and the marks' echoes turned into what the caller heard."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import numpy as np
import pytest

from core.conversation.events import AudioKind, Clear, ClearReason, ReplyAudio, ReplyDone, ReplyResumed
from core.conversation.reply_turn import ReplyTurn
from core.phone import twilio_messages
from core.phone.audio import PHONE_FRAME_BYTES
from core.phone.playout import DEFAULT_LEAD_MS, PhonePlayout, PlayoutFull
from core.phone.reply import MARK_EVERY_FRAMES, PhoneReplyChannel
from tests.support.wait import wait_until

FRAME = bytes([0x7F]) * PHONE_FRAME_BYTES


class Wire:
    """What the playout sent, with when; waited on with a timeout, never a sleep."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[float, dict[str, Any]]] = []
        self.fail = fail
        self._cond = threading.Condition()

    def __call__(self, text: str) -> None:
        if self.fail:
            raise ConnectionError("socket closed")
        with self._cond:
            self.sent.append((time.monotonic(), json.loads(text)))
            self._cond.notify_all()

    def events(self) -> list[str]:
        with self._cond:
            return [m["event"] for _, m in self.sent]

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> bool:
        wait_until(predicate, timeout, "the messages sent", self._cond)
        return True


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def playout(wire: Wire):
    p = PhonePlayout(wire, "MZtest")
    yield p
    p.close()


def test_frames_go_out_in_order_at_the_pace_they_play(wire: Wire, playout: PhonePlayout) -> None:
    frames = [bytes([i]) * PHONE_FRAME_BYTES for i in range(25)]
    added_at = time.monotonic()
    playout.add_frames(frames[:10])
    playout.add_mark("a")
    playout.add_frames(frames[10:])
    assert wire.wait_for(lambda: len(wire.sent) == 26)
    media = [(t, m) for t, m in wire.sent if m["event"] == "media"]
    assert [m["media"]["payload"] for _, m in media] == [
        json.loads(twilio_messages.media_message("MZtest", f))["media"]["payload"] for f in frames]
    assert wire.events()[10] == "mark" and wire.sent[10][1]["mark"]["name"] == "a"
    # 25 frames are 500 ms of sound: the last goes no sooner than real time allows, minus
    # the lead, counted from when they were handed over (a late first frame only delays it).
    assert media[-1][0] - added_at >= (25 * 20 - DEFAULT_LEAD_MS - 20) / 1000


def test_clear_drops_what_is_queued_and_nothing_queued_follows_it(wire: Wire, playout: PhonePlayout) -> None:
    playout.add_frames([FRAME] * 200)
    assert wire.wait_for(lambda: len(wire.sent) >= 3)
    dropped = playout.clear()
    assert dropped > 150 and playout.queued == 0
    events = wire.events()
    assert events.count("clear") == 1 and "media" not in events[events.index("clear") + 1 :]
    playout.add_frames([FRAME])  # the next reply plays at once
    assert wire.wait_for(lambda: wire.events()[-1] == "media")


def test_more_than_any_reply_needs_is_refused(wire: Wire) -> None:
    playout = PhonePlayout(wire, "MZtest", max_items=10)
    try:
        playout.add_frames([FRAME] * 10)
        with pytest.raises(PlayoutFull):
            playout.add_frames([FRAME])
    finally:
        playout.close()


def test_a_closed_socket_stops_the_sending_not_the_call() -> None:
    wire = Wire(fail=True)
    playout = PhonePlayout(wire, "MZtest")
    playout.add_frames([FRAME] * 3)
    playout.clear()
    assert playout.send_failed
    playout.close()


# ----- the reply channel ------------------------------------------------------------------
class Heard:
    def __init__(self) -> None:
        self.progress: list[tuple[int, float]] = []
        self.done: list[int] = []

    def channel(self, playout: PhonePlayout) -> PhoneReplyChannel:
        return PhoneReplyChannel(playout, lambda t, ms: self.progress.append((t, ms)), self.done.append)


def speech(seconds: float, rate: int = 22050) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * 300 * t) * 8000).astype("<i2").tobytes()


def marks(wire: Wire) -> list[str]:
    return [m["mark"]["name"] for _, m in wire.sent if m["event"] == "mark"]


def test_marks_say_how_much_of_the_reply_has_played(wire: Wire, playout: PhonePlayout) -> None:
    heard = Heard()
    channel = heard.channel(playout)
    channel.deliver(ReplyAudio(2, speech(0.5), 22050))
    channel.deliver(ReplyAudio(2, speech(0.5), 22050))
    channel.deliver(ReplyDone(2, "...", {}))
    assert wire.wait_for(lambda: bool(marks(wire)) and marks(wire)[-1].endswith(":end"), 5)
    assert wire.events().count("media") == 50
    names = marks(wire)
    assert len(names) == 50 // MARK_EVERY_FRAMES + 1 and all(n.startswith("2:") for n in names)
    for name in names:  # as Twilio echoes them, in order
        channel.marked(name)
    assert [ms for _, ms in heard.progress] == [100.0 * i for i in range(1, 11)] + [1000.0]
    assert heard.done == [2]
    channel.marked("2:999")  # an unknown name changes nothing
    assert len(heard.progress) == 11


def test_after_a_clear_the_dropped_marks_do_not_count_as_heard(wire: Wire, playout: PhonePlayout) -> None:
    heard = Heard()
    channel = heard.channel(playout)
    channel.deliver(ReplyAudio(3, speech(2.0), 22050))
    assert wire.wait_for(lambda: len(marks(wire)) >= 2)
    first = marks(wire)[0]
    channel.deliver(Clear(3, ClearReason.BARGE_IN))
    assert "clear" in wire.events()
    channel.marked(first)  # played before the clear: Twilio's echo comes after it
    for name in marks(wire)[1:]:
        channel.marked(name)  # echoed because of the clear: dropped, not played
    assert heard.progress == [] and heard.done == []


def test_a_resumed_reply_counts_from_where_it_resumes(wire: Wire, playout: PhonePlayout) -> None:
    heard = Heard()
    channel = heard.channel(playout)
    channel.deliver(ReplyAudio(4, speech(0.3), 22050))
    channel.deliver(Clear(4, ClearReason.BARGE_IN))
    channel.deliver(ReplyResumed(4, 1200))
    channel.deliver(ReplyAudio(4, speech(0.2), 22050))
    assert wire.wait_for(lambda: bool(marks(wire)))
    channel.marked(marks(wire)[-1])
    assert heard.progress == [(4, 1300.0)]


def test_a_thinking_cue_is_played_but_not_counted_as_the_reply(wire: Wire, playout: PhonePlayout) -> None:
    heard = Heard()
    channel = heard.channel(playout)
    channel.deliver(ReplyAudio(5, speech(0.4), 22050, AudioKind.CUE))
    channel.deliver(ReplyAudio(5, speech(0.2), 22050))
    channel.deliver(ReplyDone(5, "...", {}))
    assert wire.wait_for(lambda: bool(marks(wire)) and marks(wire)[-1].endswith(":end"), 5)
    for name in marks(wire):
        channel.marked(name)
    # 200 ms of reply, give or take the frames the cue and the reply share at their seam
    turn, played = heard.progress[-1]
    assert turn == 5 and 200.0 <= played <= 240.0 and heard.done == [5]


def test_what_was_heard_is_what_played_once_the_client_says_so() -> None:
    turn = ReplyTurn(number=1, base_at=0.0, committed_at=0.0, job=None)
    turn.first_audio_at, turn.paused_at = 1000.0, 3000.0
    assert turn.heard_ms() == 2000.0  # sent for 2 s
    turn.played_ms = 1200.0  # but the phone had played 1.2 s of it
    assert turn.heard_ms() == 1200.0

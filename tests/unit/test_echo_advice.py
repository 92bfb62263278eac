"""The headphones advice: given once when the microphone hears the reply come back
loudly, never when it hears only the room (headphones, or echo cancellation working)."""

from __future__ import annotations

import numpy as np

from core.audio.echo_path import EchoPath
from core.session.echo_advice import ADVISE_LEVEL, EchoAdvice
from tests.unit.test_echo_in_session import SpeakingTTS, echo_of, feed, reply_sent, with_noise


def advice_sent(h) -> list[dict]:  # type: ignore[no-untyped-def]
    return h.sent.events("advice")  # (as the client reads them)


def test_a_loud_echo_of_the_reply_brings_the_headphones_advice_once(make_harness) -> None:
    h = make_harness(tts=SpeakingTTS())
    sent = reply_sent(h)
    feed(h, with_noise(echo_of(sent, extra_ms=600)))
    advice = advice_sent(h)
    assert [a["code"] for a in advice] == ["headphones"], h.sent.summary()
    assert advice[0]["type"] == "advice" and "headphones" in advice[0]["message"]
    h.send(type="text", text="and another story")  # a second reply, echoed again: no second advice
    h.sent.wait_event("reply_done", turn=2)
    feed(h, with_noise(echo_of([a.pcm16 for a in h.sent.audio() if a.turn == 2], extra_ms=600)))
    assert len(advice_sent(h)) == 1


def test_a_microphone_that_hears_only_the_room_gets_no_advice(make_harness) -> None:
    h = make_harness(tts=SpeakingTTS())
    sent = reply_sent(h)
    feed(h, with_noise(np.zeros(echo_of(sent, extra_ms=600).size)))
    assert advice_sent(h) == []


class GateWithPath:
    """As much of an ``EchoGate`` as the advice reads: its current path."""

    def __init__(self, path: EchoPath) -> None:
        self.path = path


def test_an_echo_found_but_quiet_is_not_worth_advice() -> None:
    gains = np.ones(4)
    quiet = EchoAdvice(GateWithPath(EchoPath(5, gains, 0.8, level=ADVISE_LEVEL - 0.5)))  # type: ignore[arg-type]
    assert quiet.due() == ()
    unknown = EchoAdvice(GateWithPath(EchoPath(None, gains, 0.3)))  # type: ignore[arg-type]
    assert unknown.due() == ()
    loud = EchoAdvice(GateWithPath(EchoPath(5, gains, 0.8, level=-1.0)))  # type: ignore[arg-type]
    assert [a.code for a in loud.due()] == ["headphones"] and loud.due() == ()
    assert EchoAdvice(None).due() == ()  # (the gate turned off)

"""Timeline: the reply's own echo in the microphone is not the person (issue 17).

A session with fake providers whose voice is speech-like; the microphone is fed, frame by
frame on the session's clock, what laptop speakers would bring back: the reply audio the
session sent, 100 ms later, at -10 dB, over room noise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np

from core.audio.pcm import ms_to_bytes
from tests.support.fakes import FakeSTT, FakeTTS
from tests.support.synthetic import silence, to_pcm16, voiced_burst

FRAME = ms_to_bytes(20)
ECHO_DELAY_MS = 100
ECHO_LEVEL_DB = -10.0


class SpeakingTTS(FakeTTS):
    """A fake voice that sounds like talking: syllable bursts between short pauses."""

    def synthesize(self, text: str) -> Iterator[bytes]:
        self.sentences.append(text)
        for n in range(4):
            yield to_pcm16(np.concatenate((voiced_burst(400, f0=120.0 + 10 * n), silence(200))), seed=n)


def echo_of(sent: list[bytes], extra_ms: int) -> np.ndarray:
    reply = np.frombuffer(b"".join(sent), dtype="<i2").astype(np.float64)
    delay = np.zeros(ECHO_DELAY_MS * 16)
    return np.concatenate((delay, reply * 10 ** (ECHO_LEVEL_DB / 20), np.zeros(extra_ms * 16)))


def with_noise(signal: np.ndarray) -> bytes:
    noisy = signal + np.random.default_rng(3).normal(0, 30, signal.size)
    return np.clip(np.rint(noisy), -32768, 32767).astype("<i2").tobytes()


def reply_sent(h) -> list[bytes]:
    h.handle_text(json.dumps({"type": "start"}))
    h.sent.wait_event("state", state="listening")
    h.handle_text(json.dumps({"type": "text", "text": "tell me a story"}))
    h.sent.wait_event("reply_done", turn=1)
    return [audio.pcm16 for audio in h.sent.audio() if audio.turn == 1]


def feed(h, pcm: bytes) -> list[str]:
    """Microphone frames on the session's clock; then what the session had sent by the
    end of them (a ping's pong follows everything sent before it)."""
    for i in range(0, len(pcm) - FRAME + 1, FRAME):
        h.clock.now += 0.02
        h.session.audio(pcm[i : i + FRAME])
    mark = len(h.sent.events("pong"))
    h.send(type="ping")
    h.sent.wait_for(lambda: len(h.sent.events("pong")) > mark)
    return h.sent.summary()


def test_the_reply_heard_back_through_the_microphone_does_not_interrupt_it(make_harness) -> None:
    h = make_harness(tts=SpeakingTTS())
    sent = reply_sent(h)
    kinds = feed(h, with_noise(echo_of(sent, extra_ms=600)))
    assert "speech_started" not in kinds and "clear" not in kinds, kinds
    h.send(type="stop")  # a change of state: the frames silenced are counted (at once)
    assert h.monitor.snapshot()["counters"]["echo_frames_silenced"] > 100


def test_without_the_gate_the_same_echo_interrupts_the_reply(make_harness) -> None:
    """The control: this echo is loud enough to be taken for the person."""
    h = make_harness(tts=SpeakingTTS(), echo_gate=False)
    sent = reply_sent(h)
    assert "clear" in feed(h, with_noise(echo_of(sent, extra_ms=600)))


def test_the_person_talking_over_the_echo_still_stops_the_reply_at_once(make_harness) -> None:
    h = make_harness(tts=SpeakingTTS(), stt=FakeSTT("wait a moment"))
    sent = reply_sent(h)
    mic = echo_of(sent, extra_ms=0)
    onset = 16 * 1500  # 1.5 s into the echo, when the gate knows the path
    person = voiced_burst(700, f0=210.0).astype(np.float64) * 32767  # as loud as the reply sent
    mic[onset : onset + person.size] += person
    pcm = with_noise(mic)
    assert "clear" not in feed(h, pcm[: onset * 2])
    feed(h, pcm[onset * 2 : (onset + 16 * 150) * 2])  # 150 ms of the person
    clears = h.sent.events("clear")
    assert clears and clears[0]["reason"] == "barge_in", h.sent.summary()


def test_a_reply_the_client_says_it_has_played_is_no_longer_expected(make_harness) -> None:
    """A client may play faster than real time or report early: after ``playback_done``
    the reply sent is not expected in the microphone, so a voice under its level is the
    person (the path is not known yet: any echo at any delay is assumed loud)."""
    def quiet_voice_heard(report_played: bool) -> bool:
        h = make_harness(tts=SpeakingTTS(), stt=FakeSTT("and another thing"))
        reply_sent(h)
        if report_played:
            h.send(type="playback_done", turn=1)
            h.sent.wait_for(lambda: h.sent.events("state")[-1]["state"] == "listening")
        h.clock.now += 0.3  # (speech within 200 ms of a reply's end is not taken)
        person = voiced_burst(600, f0=210.0).astype(np.float64) * 32767 * 0.2  # 14 dB under the reply
        return "speech_started" in feed(h, with_noise(np.concatenate((person, np.zeros(16 * 400)))))

    assert quiet_voice_heard(report_played=True)
    assert not quiet_voice_heard(report_played=False)  # the control: the same voice over the reply

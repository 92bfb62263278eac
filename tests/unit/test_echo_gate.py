"""The echo gate on real speech: the Beckett recording as the reply sent (at Piper's
22,050 Hz), coming back at -10 and -20 dB, straight or through a small room; a recorded
question as the person talking over it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import webrtcvad

from core.audio.echo_gate import EchoGate
from core.audio.echo_path import QUIET_GAIN
from core.audio.echo_ring import BlockRing
from core.audio.echo_unknown import DELAYS, EVIDENCE_BLOCKS, OneDelay, QuietEvidence, RoomLevel
from core.audio.resample import StreamResampler
from core.audio.segmenter import Segmenter, SegmenterConfig, SpeechStarted
from monitoring.clients.echoing_client import speech_gain
from monitoring.clients.voice_client import read_wav_16k_mono
from monitoring.servers.server_process import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
FRAME = 480  # samples: the segmenter's 30 ms
REPLY_AT_S = 0.5  # when the reply is sent (all of it at once, as Piper outruns the page)
TOTAL_S = 9.0


def samples(name: str) -> np.ndarray:
    return np.frombuffer(read_wav_16k_mono(FIXTURES / name), dtype="<i2").astype(np.float64)


REPLY = samples("beckett.wav")[: 16000 * 7]
PERSON = samples("question_3.wav")


def room(signal: np.ndarray, reverberant: bool) -> np.ndarray:
    response = np.zeros(1600)
    response[0] = 1.0
    if reverberant:
        tail = np.arange(1, 1600)
        response[1:] = np.random.default_rng(4).normal(0, 0.08, tail.size) * np.exp(-tail / 400.0)
    response = np.convolve(response, [1.0, -0.92])  # a small speaker
    response *= speech_gain(response)  # the echo at the level set, for speech
    return np.convolve(signal, response)[: signal.size]


def microphone(level_db: float | None, delay_ms: int = 120, reverberant: bool = True,
               person_at_s: float | None = None, person_db: float = 0.0) -> np.ndarray:
    mic = np.random.default_rng(1).normal(0, 30, int(16000 * TOTAL_S))
    if level_db is not None:
        echo = room(REPLY, reverberant) * 10 ** (level_db / 20)
        start = int((REPLY_AT_S + delay_ms / 1000) * 16000)
        mic[start : start + echo.size] += echo[: mic.size - start]
    if person_at_s is not None:
        start = int(person_at_s * 16000)
        person = PERSON[: mic.size - start] * 10 ** (person_db / 20)
        mic[start : start + person.size] += person
    return mic


def run(mic: np.ndarray, stop_at_s: float | None = None,
        reply_at_s: float = REPLY_AT_S, played_at_s: float | None = None) -> tuple[EchoGate, list[float]]:
    """The microphone through the gate and the segmenter; the speech starts, in seconds."""
    gate, segmenter = EchoGate(), Segmenter(SegmenterConfig(neural=False))
    pcm = np.clip(np.rint(mic), -32768, 32767).astype("<i2")
    reply = StreamResampler(16000, 22050).process(REPLY.astype("<i2"), last=True).tobytes()
    starts: list[float] = []
    due = [(reply_at_s * 1000, lambda now: gate.sent(reply, 22050, now))]
    if stop_at_s is not None:
        due.append((stop_at_s * 1000, gate.stopped))
    if played_at_s is not None:
        due.append((played_at_s * 1000, gate.played))
    for index in range(0, pcm.size - FRAME + 1, FRAME):
        now_ms = (index + FRAME) / 16  # when the frame is whole
        while due and due[0][0] <= now_ms:
            due.pop(0)[1](now_ms)
        for event in segmenter.process(gate.filter(pcm[index : index + FRAME].tobytes(), now_ms)):
            if isinstance(event, SpeechStarted):
                starts.append(event.start_ms / 1000)
    return gate, starts


@pytest.mark.parametrize("level_db", [-10.0, -20.0])
@pytest.mark.parametrize("reverberant", [False, True])
@pytest.mark.parametrize("delay_ms", [40, 250])
def test_the_reply_coming_back_never_starts_speech(level_db: float, reverberant: bool, delay_ms: int) -> None:
    gate, starts = run(microphone(level_db, delay_ms, reverberant))
    assert starts == []
    assert gate.path.lag is not None and abs(gate.path.lag - delay_ms / 10) <= 2
    assert gate.silenced_frames > 100


def test_without_the_gate_the_same_echo_is_heard_as_speech() -> None:
    """The control: the material above does start speech when nothing gates it."""
    segmenter = Segmenter(SegmenterConfig(neural=False))
    pcm = np.clip(np.rint(microphone(-10.0)), -32768, 32767).astype("<i2")
    frames = [pcm[i : i + FRAME].tobytes() for i in range(0, pcm.size - FRAME + 1, FRAME)]
    events = [event for frame in frames for event in segmenter.process(frame)]
    assert any(isinstance(e, SpeechStarted) for e in events)


@pytest.mark.parametrize("level_db", [-10.0, -20.0, None])
@pytest.mark.parametrize("person_at_s", [2.0, 4.5])
def test_a_person_talking_over_the_echo_is_heard_at_once(level_db: float | None, person_at_s: float) -> None:
    _, starts = run(microphone(level_db, person_at_s=person_at_s))
    assert starts, "the person was not heard"
    first_voice = person_at_s + 0.05  # the recording's own lead-in before its first word
    assert starts[0] >= person_at_s - 0.03, "speech heard before the person spoke"
    assert starts[0] - first_voice <= 0.15


def test_on_headphones_the_path_is_learnt_quiet_and_a_quiet_voice_is_heard() -> None:
    gate, starts = run(microphone(None, person_at_s=4.5, person_db=-20.0))
    assert gate.path.lag is None and np.all(gate.path.gains <= QUIET_GAIN)
    assert starts and 4.5 <= starts[0] <= 4.5 + 0.05 + 0.15, starts


def test_on_headphones_once_nothing_comes_back_no_frame_of_a_soft_voice_is_silenced() -> None:
    """A soft voice 30 dB under the reply (the quiet consonants of a barge-in): once the
    gate knows nothing comes back, it passes every frame (a recorded barge-in lost 240 ms
    of "Ever failed." when its soft frames were taken for a -40 dB echo)."""
    mic = microphone(None, person_at_s=4.5, person_db=-30.0)
    gate, pcm = EchoGate(), np.clip(np.rint(mic), -32768, 32767).astype("<i2")
    gate.sent(StreamResampler(16000, 22050).process(REPLY.astype("<i2"), last=True).tobytes(), 22050,
              REPLY_AT_S * 1000)
    silenced = []
    for index in range(int(REPLY_AT_S * 16000), pcm.size - FRAME + 1, FRAME):
        frame = pcm[index : index + FRAME].tobytes()
        if gate.filter(frame, (index + FRAME) / 16) != frame and index >= 4.5 * 16000:
            silenced.append(index / 16000)
    assert gate.path.lag is None and np.all(gate.path.gains <= QUIET_GAIN)
    assert silenced == []


@pytest.mark.parametrize("into_reply_s", [0.3, 0.6])
def test_on_headphones_a_person_talking_over_the_first_reply_at_once_is_heard_within_400_ms(
        into_reply_s: float) -> None:
    """Before the path is known the gate assumes a loud echo at any delay. The quiet
    microphone before the person spoke rules out the delays it covers, and the person's
    voice, which no single delay explains, rules out the rest (before both: 0.86-1.13 s)."""
    person_db = -14.0  # 5 dB under the reply: within the loud echo assumed
    person_at_s = REPLY_AT_S + into_reply_s
    _, starts = run(microphone(None, person_at_s=person_at_s, person_db=person_db))
    first_voice = person_at_s + 0.05
    assert starts and starts[0] - first_voice <= 0.4, starts


def test_a_word_after_a_client_reports_a_long_reply_played_at_once_is_heard_whole() -> None:
    """A client that never plays (it reports ``playback_done`` 0.4 s after 7 s of reply
    arrived): its schedule is not believed, and a voice 0.3 s later, 5 dB under the
    reply, before anything is known of the path, is not taken for the echo of what it
    "played"."""
    person_at_s = REPLY_AT_S + 0.7
    mic = microphone(None, person_at_s=person_at_s, person_db=-14.0)
    _, starts = run(mic, played_at_s=REPLY_AT_S + 0.4)
    assert starts and starts[0] - person_at_s <= 0.06, starts


def test_control_a_reply_cleared_after_playing_a_while_hides_the_start_of_that_voice() -> None:
    """Cleared (a barge-in) at the same moment instead, those 0.4 s did play: until the
    path is known, the start of a voice no louder than the reply just after it may be
    its echo."""
    person_at_s = REPLY_AT_S + 0.7
    mic = microphone(None, person_at_s=person_at_s, person_db=-14.0)
    _, starts = run(mic, stop_at_s=REPLY_AT_S + 0.4)
    assert not starts or starts[0] - person_at_s > 0.1, starts


def test_a_person_talking_on_and_on_over_a_reply_keeps_their_words() -> None:
    """Seconds of talk do not raise the room's noise floor to the voice, nor pass for an
    echo: on headphones, once nothing came back, no two voiced frames in a row of a
    person talking over a reply are silenced (a word's first frame may be: its voice
    began in the frame's last 10 ms)."""
    talk = np.concatenate([samples(f"question_{n}.wav") for n in (1, 2, 4, 5)])
    mic = microphone(None)
    start = int(1.0 * 16000)
    mic[start : start + talk.size] += talk[: mic.size - start]
    gate, vad = EchoGate(), webrtcvad.Vad(2)
    reply = StreamResampler(16000, 22050).process(REPLY.astype("<i2"), last=True).tobytes()
    pcm = np.clip(np.rint(mic), -32768, 32767).astype("<i2")
    lost: list[bool] = []
    for index in range(0, pcm.size - FRAME + 1, FRAME):
        now_ms = (index + FRAME) / 16
        if index == 8160:  # 0.51 s
            gate.sent(reply, 22050, now_ms)
        samples16 = pcm[index : index + FRAME]
        frame = samples16.tobytes()
        out = gate.filter(frame, now_ms)
        voiced = vad.is_speech(frame, 16000) and np.abs(np.diff(samples16.astype(float))).mean() > 100
        if now_ms > 1800 and voiced:  # (known quiet by 1.7 s; the room's noise alone: ~35)
            lost.append(out != frame)
    assert gate.path.lag is None and np.all(gate.path.gains <= QUIET_GAIN)
    assert len(lost) > 150 and not any(a and b for a, b in itertools.pairwise(lost))


def test_a_reply_told_to_stop_is_not_expected_any_more() -> None:
    """Cleared at 2 s (its echo gone 120 ms later): a voice at 3 s as quiet as the echo
    was is the person's, though the reply would still be playing had it not stopped."""
    mic = microphone(None, person_at_s=3.0, person_db=-12.0)
    echo = room(REPLY, True) * 10 ** (-10 / 20)
    start, stop = int((REPLY_AT_S + 0.12) * 16000), int(2.12 * 16000)
    mic[start:stop] += echo[: stop - start]
    _, starts = run(mic, stop_at_s=2.0)
    assert starts and 3.0 <= starts[0] <= 3.25, starts


def test_block_ring_reads_silence_where_nothing_or_something_older_was_written() -> None:
    ring = BlockRing(8)
    ring.write(2, np.ones((3, ring._rows.shape[1])))
    assert ring.read(0, 6).sum(axis=1).tolist() == [0, 0, 11, 11, 11, 0]
    ring.write(10, np.full((1, ring._rows.shape[1]), 2.0))  # slot of block 2 again
    assert ring.read(2, 1).sum() == 0 and ring.read(10, 1).sum() == 22
    ring.forget_from(3, 5)
    assert ring.read(3, 2).sum() == 0


def test_a_quiet_microphone_bounds_the_echo_at_the_delays_it_covers() -> None:
    evidence = QuietEvidence()
    reply = np.zeros((EVIDENCE_BLOCKS, DELAYS))
    reply[:, :20] = 1e7  # the reply loud at delays 0-19 under these blocks, silent beyond
    heard = np.full(EVIDENCE_BLOCKS, 2e3)  # the microphone at twice the noise floor
    evidence.observe(heard, reply, noise=1e3)
    gains = evidence.gains(np.full(11, 0.3))
    assert np.all(gains[:20] < 1e-2) and np.all(gains[20:] == 0.3)


def test_a_loud_microphone_proves_nothing_about_the_delay() -> None:
    evidence = QuietEvidence()
    reply = np.full((EVIDENCE_BLOCKS, DELAYS), 1e7)
    evidence.observe(np.full(EVIDENCE_BLOCKS, 1e6), reply, noise=1e3)  # an echo or a voice
    assert np.all(evidence.gains(np.full(11, 0.3)) == 0.3)


def test_a_sound_is_the_echo_only_while_one_delay_explains_all_of_it() -> None:
    echo, voice = OneDelay(), OneDelay()
    for block in range(30):
        fits = np.zeros(DELAYS, dtype=bool)
        fits[12] = True  # the echo: always the same delay
        assert echo.explains(True, fits)
        wandering = np.zeros(DELAYS, dtype=bool)
        wandering[(block * 7) % DELAYS] = True  # each block fits some delay, never the same one
        took_for_echo = voice.explains(True, wandering)
    assert not took_for_echo


def test_a_pause_ends_a_sound_and_the_next_is_judged_afresh() -> None:
    one = OneDelay()
    for block in range(5):
        fits = np.zeros(DELAYS, dtype=bool)
        fits[block] = True
        one.explains(True, fits)
    for _ in range(5):
        assert one.explains(False, np.zeros(DELAYS, dtype=bool))  # at the room's level
    fits = np.zeros(DELAYS, dtype=bool)
    fits[40] = True
    assert one.explains(True, fits)


def test_after_a_clients_digital_silence_the_first_reply_still_does_not_interrupt_itself() -> None:
    """A client that sent zeros before (the page's first frames, a test client) drags the
    per-band floors far under the room: room noise must not then count as a sound that no
    delay explains, which let the first reply's echo through."""
    lead_s = 1.0
    mic = np.concatenate((np.zeros(int(16000 * lead_s)), microphone(-10.0)))
    gate, starts = run(mic, reply_at_s=REPLY_AT_S + lead_s)
    assert starts == []
    assert gate.silenced_frames > 100


def test_the_rooms_level_is_its_usual_noise_and_skips_digital_silence() -> None:
    room = RoomLevel()
    for _ in range(50):
        room.hear(np.zeros(3))  # a client's zeros
    for frame in np.random.default_rng(2).exponential(1e5, (300, 3)):  # blocks of noise, 1e5 on average
        room.hear(frame)
    assert 0.5e5 <= room.level <= 1e5  # within 3 dB under the usual block, not at the zeros


@pytest.mark.parametrize("slack", [3, 1], ids=["as set", "control: the old 10 ms"])
def test_a_delay_judged_30_ms_late_still_explains_the_echos_onsets(monkeypatch, slack: int) -> None:
    """A first estimate from one phrase can put the delay 30 ms late (a room's tail drags
    the envelopes' match); the onsets of the next phrase's echo then come before the
    echo predicted. Sent at 510 ms, back 120 ms after 500: the true lag is 11 blocks."""
    import core.audio.echo_gate as gate_module
    from core.audio.echo_bands import BANDS
    from core.audio.echo_path import EchoPath

    late = EchoPath(11 + 3, np.full(BANDS, 0.1), correlation=0.9, level=-1.0)
    monkeypatch.setattr(gate_module, "estimate", lambda *args, **kwargs: late)
    monkeypatch.setattr(gate_module, "EARLY_SLACK", slack)
    if slack == 1:  # (nor is the piece's own delay looked for, which would also mend it)
        monkeypatch.setattr(gate_module, "JITTER_BLOCKS", 0)
        monkeypatch.setattr("core.audio.echo_pieces.JITTER_BLOCKS", 0)
        monkeypatch.setattr(gate_module, "piece_delay", lambda *args, **kwargs: None)
    _, starts = run(microphone(-10.0, delay_ms=120))
    if slack == 3:
        assert starts == []
    else:
        assert starts  # the control: the onsets pass as speech

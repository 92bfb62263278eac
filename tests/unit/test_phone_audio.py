"""Telephone audio: the µ-law codec, the streaming resampler and the 20 ms framing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from core.audio import mulaw
from core.audio.resample import StreamResampler
from core.phone.audio import PHONE_FRAME_BYTES, InboundAudio, OutboundAudio


def tone(hz: float, rate: int, seconds: float = 1.0, amplitude: float = 10_000) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def level_db(samples: np.ndarray, hz: float, rate: int, amplitude: float = 10_000) -> float:
    """The level of ``hz`` in the middle half of ``samples``, relative to ``amplitude``."""
    middle = samples[samples.size // 4 : -samples.size // 4].astype(np.float64)
    t = np.arange(middle.size) / rate
    magnitude = abs(np.dot(middle, np.exp(-2j * np.pi * hz * t))) * 2 / middle.size
    return 20 * np.log10(magnitude / amplitude + 1e-12)


# ----- µ-law ---------------------------------------------------------------------------------
def test_mulaw_codes_of_known_values() -> None:
    assert mulaw.encode(np.array([0, 32767, -32768], dtype=np.int16)) == bytes([0xFF, 0x80, 0x00])
    assert list(mulaw.decode(bytes([0xFF, 0x7F, 0x80, 0x00]))) == [0, 0, 32124, -32124]


def test_mulaw_matches_the_reference_coder_for_every_value() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")  # gone in Python 3.13: only a reference here
    every = np.arange(-32768, 32768, dtype=np.int16)
    assert mulaw.encode(every) == audioop.lin2ulaw(every.tobytes(), 2)
    codes = bytes(range(256))
    assert mulaw.decode(codes).tobytes() == audioop.ulaw2lin(codes, 2)


def test_mulaw_round_trip_keeps_speech_levels_within_its_step() -> None:
    samples = np.random.default_rng(0).normal(0, 4000, 8000).clip(-32000, 32000).astype(np.int16)
    back = mulaw.decode(mulaw.encode(samples)).astype(np.int32)
    error = np.abs(back - samples)
    assert np.all(error <= np.maximum(16, np.abs(samples.astype(np.int32)) // 16))


# ----- the resampler ---------------------------------------------------------------------------
@pytest.mark.parametrize("rates", [(8000, 16000), (22050, 8000), (24000, 8000), (16000, 8000)])
def test_streaming_in_20ms_chunks_equals_resampling_at_once(rates: tuple[int, int]) -> None:
    in_rate, out_rate = rates
    signal = tone(440, in_rate) + tone(1800, in_rate, amplitude=3000)
    chunk = in_rate // 50
    streamed = StreamResampler(in_rate, out_rate)
    pieces = [streamed.process(signal[i : i + chunk]) for i in range(0, signal.size, chunk)]
    pieces.append(streamed.process(np.zeros(0, np.int16), last=True))
    whole = StreamResampler(in_rate, out_rate).process(signal, last=True)
    assert np.array_equal(np.concatenate(pieces), whole)
    assert whole.size == signal.size * out_rate // in_rate


def test_the_delay_is_a_couple_of_milliseconds() -> None:
    resampler = StreamResampler(8000, 16000)
    out = [resampler.process(np.zeros(160, np.int16)).size for _ in range(5)]
    assert out[0] >= 320 - 2 * resampler.taps_per_side and out[1:] == [320] * 4  # 2 ms held back once


def test_speech_band_passes_and_what_would_alias_is_removed() -> None:
    for in_rate, out_rate in ((8000, 16000), (22050, 8000)):
        for hz in (300, 1000, 3000):
            out = StreamResampler(in_rate, out_rate).process(tone(hz, in_rate), last=True)
            assert abs(level_db(out, hz, out_rate)) < 0.5, (in_rate, hz)
    # 5 kHz cannot exist at 8 kHz: without filtering it would come back as 3 kHz.
    out = StreamResampler(22050, 8000).process(tone(5000, 22050), last=True)
    assert level_db(out, 3000, 8000) < -60


# ----- framing ---------------------------------------------------------------------------------
def test_inbound_phone_frames_become_16khz_pcm() -> None:
    inbound = InboundAudio()
    codes = mulaw.encode(tone(1000, 8000, seconds=0.2))
    pcm = b"".join(inbound.convert(codes[i : i + PHONE_FRAME_BYTES]) for i in range(0, len(codes), 160))
    samples = np.frombuffer(pcm, dtype="<i2")
    assert 0.2 * 16000 - 40 <= samples.size <= 0.2 * 16000
    assert abs(level_db(samples, 1000, 16000)) < 0.5


def test_outbound_reply_audio_becomes_whole_frames_and_the_end_is_padded() -> None:
    outbound = OutboundAudio()
    reply = tone(500, 22050, seconds=0.51).tobytes()
    half = len(reply) // 4 * 2
    frames = outbound.add(reply[:half], 22050) + outbound.add(reply[half:], 22050)
    frames += outbound.finish()
    assert all(len(f) == PHONE_FRAME_BYTES for f in frames)
    assert len(frames) == 26  # 0.51 s: 25 frames and a half, padded with silence
    assert frames[-1][-40:] == bytes([mulaw.SILENCE]) * 40
    assert outbound.finish() == []  # nothing left over for the next reply


def test_outbound_follows_a_change_of_voice_rate() -> None:
    outbound = OutboundAudio()
    frames = outbound.add(tone(500, 22050, seconds=0.1).tobytes(), 22050)
    frames += outbound.add(tone(500, 24000, seconds=0.1).tobytes(), 24000) + outbound.finish()
    assert len(frames) == 10 and all(len(f) == PHONE_FRAME_BYTES for f in frames)

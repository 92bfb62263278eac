"""An echo gate's calls recorded in a server (``monitoring.bench.gate_recording``), kept
as a fixture (.npz: the calls' order, microphone frames, reply sends, clears and
``playback_done`` reports, times relative to the first frame), replayed through a gate
and the segmenter."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.audio.echo_gate import EchoGate
from core.audio.segmenter import Segmenter, SegmenterConfig, SpeechStarted

FIXTURES = Path(__file__).parents[1] / "fixtures"
FRAME = 480  # samples: the segmenter's 30 ms
FRAME_CALL, SEND, CLEAR, RESET, PLAYED = range(5)


def speech_starts(fixture: str, gate: EchoGate) -> list[int]:
    """Where speech started (stream ms) with the recorded calls through ``gate``."""
    calls = np.load(FIXTURES / fixture)
    segmenter = Segmenter(SegmenterConfig(neural=False))
    frames, sends = iter(range(0, calls["frames"].size, FRAME)), iter(range(calls["send_lengths"].size))
    send_at = np.concatenate([[0], np.cumsum(calls["send_lengths"])])
    stops, frame_times, starts = iter(calls["clear_times"]), iter(calls["frame_times"]), []
    for code in calls["order"]:
        if code == FRAME_CALL:
            at = next(frames)
            frame = calls["frames"][at: at + FRAME].astype("<i2").tobytes()
            out = gate.filter(frame, float(next(frame_times)))
            starts += [e.start_ms for e in segmenter.process(out) if isinstance(e, SpeechStarted)]
        elif code == SEND:
            n = next(sends)
            pcm = calls["sends"][send_at[n]: send_at[n + 1]].astype("<i2").tobytes()
            gate.sent(pcm, int(calls["send_rate"]), float(calls["send_times"][n]))
        elif code == CLEAR:
            gate.stopped(float(next(stops)))
        elif code == PLAYED:
            gate.played(float(next(stops)))
        else:
            gate.reset()
    return starts

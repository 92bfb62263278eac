"""A weak echo of a session's first reply is not taken for "nothing comes back".

The calls are an echo gate's own, recorded in a server (``gate_recording``) during the
echo bench at -20 dB: a question, then the first reply (2.1 s) echoed 130 ms late. 1.3 s
into the reply the echo still followed it only loosely (0.39), and the quiet blocks at
the true delay, all just after a phrase's last loud block, where the smeared reply is
still loud for the room's tail and the weak echo is already at the floor, had "ruled it
out": the gate decided nothing comes back, let the rest of the echo through, and the
reply interrupted itself. Such blocks may bound a delay's gain, but not rule it out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.audio.echo_gate import EchoGate
from core.audio.echo_unknown import QuietEvidence
from core.audio.segmenter import Segmenter, SegmenterConfig, SpeechStarted

CALLS = np.load(Path(__file__).parents[1] / "fixtures" / "echo_weak_first_reply.npz")
FRAME, REPLY_SENT_MS = 480, 2480  # samples a frame; stream time of the reply's first send


def speech_starts(gate: EchoGate) -> list[int]:
    """Replay the recorded calls through ``gate``: where speech started (stream ms)."""
    segmenter = Segmenter(SegmenterConfig(neural=False))
    frames, sends = iter(range(0, CALLS["frames"].size, FRAME)), iter(range(CALLS["send_lengths"].size))
    send_at = np.concatenate([[0], np.cumsum(CALLS["send_lengths"])])
    clears, frame_times, starts = iter(CALLS["clear_times"]), iter(CALLS["frame_times"]), []
    for code in CALLS["order"]:
        if code == 0:
            at = next(frames)
            frame = CALLS["frames"][at: at + FRAME].astype("<i2").tobytes()
            out = gate.filter(frame, float(next(frame_times)))
            starts += [e.start_ms for e in segmenter.process(out) if isinstance(e, SpeechStarted)]
        elif code == 1:
            n = next(sends)
            pcm = CALLS["sends"][send_at[n]: send_at[n + 1]].astype("<i2").tobytes()
            gate.sent(pcm, int(CALLS["send_rate"]), float(CALLS["send_times"][n]))
        elif code == 2:
            gate.stopped(float(next(clears)))
        else:
            gate.reset()
    return starts


def test_the_weak_echo_of_the_first_reply_is_never_heard_as_speech() -> None:
    starts = speech_starts(EchoGate())
    assert starts and starts[0] < REPLY_SENT_MS  # the question
    assert [s for s in starts if s >= REPLY_SENT_MS] == []


class SmearedRuling(QuietEvidence):
    """The rule before: any quiet block under a loud smeared reply rules a delay out."""

    def observe(self, heard: np.ndarray, reply: np.ndarray, noise: float,
                surely: np.ndarray | None = None) -> None:
        super().observe(heard, reply, noise)


def test_control_ruling_delays_out_on_the_smeared_reply_lets_the_echo_through() -> None:
    gate = EchoGate()
    gate._evidence = SmearedRuling()
    assert [s for s in speech_starts(gate) if s >= REPLY_SENT_MS] == [3810]

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

import numpy as np

from core.audio.echo_gate import EchoGate
from core.audio.echo_unknown import QuietEvidence
from tests.support.recorded_gate import speech_starts

FIXTURE, REPLY_SENT_MS = "echo_weak_first_reply.npz", 2480  # stream time of the reply's first send


def test_the_weak_echo_of_the_first_reply_is_never_heard_as_speech() -> None:
    starts = speech_starts(FIXTURE, EchoGate())
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
    assert [s for s in speech_starts(FIXTURE, gate) if s >= REPLY_SENT_MS] == [3810]

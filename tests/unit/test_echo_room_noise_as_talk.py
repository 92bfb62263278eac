"""The room's own noise let through between the phrases of a reply is not someone talking.

The calls are an echo gate's own, recorded in a server (``gate_recording``): a session's
question, then its first reply with the echo at -10 dB, 120 ms late. Between the reply's
phrases the gate let the room's noise through (nothing to silence), and counted it as
talk over the reply: measured against its per-band floors, which sum to 20 dB under a
block of that same noise. With "someone talked over it" in the window, the estimate's
"nothing comes back" (0.41, from one phrase) was believed, and the next phrase's echo
started speech. Talk is now measured against the room's usual level.
"""

from __future__ import annotations

import numpy as np

from core.audio.echo_gate import MARGIN, EchoGate
from tests.support.recorded_gate import speech_starts

FIXTURE = "echo_room_noise_as_talk.npz"
QUESTION_MS = 300


def test_only_the_question_is_heard_as_speech() -> None:
    assert speech_starts(FIXTURE, EchoGate()) == [QUESTION_MS]


class FloorsAsTalk(EchoGate):
    """The rule before: talk is 6 dB over the sum of the per-band floors."""

    def _mark_talk(self, first: int, rows: np.ndarray) -> None:
        noise = float(self._noise.sum()) if self._noise is not None else 0.0
        blocks = np.arange(first, first + rows.shape[0]) % self._talk.size
        self._talk[blocks] = rows.sum(axis=1) > MARGIN * noise


def test_control_with_room_noise_counted_as_talk_the_echo_starts_speech() -> None:
    assert speech_starts(FIXTURE, FloorsAsTalk()) == [QUESTION_MS, 4830]

"""A first echo delay is not learnt from a voice that only happens to follow the reply.

The windows are the echo gate's own, recorded in a server (``gate_recording``) while the
bench talked over each reply the moment it was heard, on headphones (no echo at all): a
voice that began 0.2 s after the reply, and the reply cut under it, followed the reply's
envelope at 0.86 over 0.3 s, and that delay used to be learnt (then each later barge-in
lost 0.3-0.6 s of its first words to the "echo")."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.audio.echo_path import UNKNOWN, estimate

WINDOWS = np.load(Path(__file__).parents[1] / "fixtures" / "echo_voice_by_chance.npz")


def window(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (WINDOWS[f"mic{n}"].astype(np.float64), WINDOWS[f"reply{n}"].astype(np.float64),
            WINDOWS[f"scheduled{n}"])


def test_a_voice_over_the_reply_is_not_learnt_as_its_echo() -> None:
    path = UNKNOWN
    for n in (1, 2):  # (a new delay must be found twice in a row)
        path = estimate(*window(n), path, talked=True)
    assert path.lag is None and path.candidate is None


def test_control_the_envelopes_do_follow_the_reply_there() -> None:
    """Without a voice let through (as if it were all the echo), the same windows make a
    delay: what tells them apart is that the voice's onsets do not match."""
    path = UNKNOWN
    for n in (1, 2):
        path = estimate(*window(n), path, talked=False)
    assert path.lag == 20 and path.correlation > 0.8

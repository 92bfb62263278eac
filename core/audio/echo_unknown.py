"""Telling a person from the echo before the echo path is known.

Until a stretch of reply has been heard at every delay (0.8 s), the gate assumes the
reply comes back loud (``UNKNOWN``) at any delay up to 500 ms. A person who talks over
every reply at once never lets one play that long, and a voice quieter than the reply
would be silenced throughout. Two things the microphone shows in the meantime narrow the
assumption down, both from the physics of an echo rather than its level:

- ``QuietEvidence``: the microphone at the room's noise floor while the reply was loud
  at a delay rules out a loud echo at that delay (for the session: a client's delay and
  room do not change between replies).
- ``OneDelay``: an echo comes back at one delay. A sound is taken for the echo only while
  a single delay explains all of it since it began; a voice, which does not follow the
  reply, is soon louder than the reply at every delay in some of its moments.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.audio.echo_path import MAX_LAG_BLOCKS, UNKNOWN

DELAYS = MAX_LAG_BLOCKS + 1
# A quiet block is telling at a delay when the assumed echo would stand 25 dB over the
# noise there and the microphone is within 6 dB of the noise.
EVIDENCE_CONTRAST = 300.0
EVIDENCE_QUIET = 4.0
EVIDENCE_BLOCKS = 5  # telling blocks at a delay before its bound is used
BAND_COLOUR = 10.0  # one band of an echo may stand 10 dB over its whole's share (a small speaker)
MISFITS_ALLOWED = 0.1  # share of a sound's blocks a delay may fail to explain (at least one)
SOUND_ENDS_AFTER = 5  # quiet blocks (50 ms): the next loud block begins a new sound
ROOM_FRAMES = 100  # 3 s of frames behind the room's level
ROOM_PERCENTILE = 20  # of their mean block energies: the room between words
DIGITAL_SILENCE = 1.0  # a frame's mean block energy under this is no room (a client's zeros)


def nearby(values: np.ndarray, by: int) -> np.ndarray:
    """Per delay, the values at the delays up to ``by`` either side (the edge values
    repeated past the ends): delays x (2 * by + 1)."""
    return sliding_window_view(np.pad(values, by, mode="edge"), 2 * by + 1)


class RoomLevel:
    """The room's usual energy per block with no one talking: the lower fifth of the
    last 3 s of frames' mean block energy. (The gate's per-band floors follow each band's
    dips, 20 dB under a block of the same noise in total; they also fall to a client's
    digital silence, which is skipped here.)"""

    def __init__(self) -> None:
        self._frames: deque[float] = deque(maxlen=ROOM_FRAMES)
        self._level: float | None = 0.0  # None: to be worked out from the frames

    def hear(self, heard: np.ndarray) -> None:
        """One frame: the energy of each of its blocks."""
        mean = float(heard.mean()) if heard.size else 0.0
        if mean >= DIGITAL_SILENCE:
            self._frames.append(mean)
            self._level = None

    @property
    def level(self) -> float:
        """(Worked out when read: only while the path is unknown, not for every frame.)"""
        if self._level is None:
            self._level = float(np.percentile(self._frames, ROOM_PERCENTILE))
        return self._level


class QuietEvidence:
    """Per delay: the loudest echo (microphone over reply energy) that the blocks heard
    at the noise floor, while the reply was loud at that delay, leave possible; and
    whether such blocks rule the delay out. Only blocks where the reply was loud in every
    block that may sound in them rule out: after a phrase's last loud block the smeared
    reply is still loud for its room's tail, where a weak echo (-20 dB) is already at
    the floor (those blocks still bound the delay's gain)."""

    def __init__(self) -> None:
        self.count = np.zeros(DELAYS, dtype=np.int64)
        self.bound = np.zeros(DELAYS)
        self.ruling = np.zeros(DELAYS, dtype=np.int64)  # blocks that rule the delay out

    def observe(self, heard: np.ndarray, reply: np.ndarray, noise: float,
                surely: np.ndarray | None = None) -> None:
        """``heard``: the microphone's energy per block; ``reply``: the reply's (smeared)
        energy under each block at each delay (blocks x delays); ``surely``: the quietest
        of it that may sound there (``reply`` when not given)."""
        if noise <= 0.0:
            return
        quiet = heard[:, None] <= EVIDENCE_QUIET * noise
        telling = self._loud(reply, noise) & quiet
        if telling.any():
            ratios = np.where(telling, heard[:, None] / np.maximum(reply, 1e-9), 0.0)
            self.bound = np.maximum(self.bound, ratios.max(axis=0))
            self.count += telling.sum(axis=0)
        self.ruling += (telling if surely is None else self._loud(surely, noise) & quiet).sum(axis=0)

    @staticmethod
    def _loud(reply: np.ndarray, noise: float) -> np.ndarray:
        return reply * float(UNKNOWN.gains.max()) >= EVIDENCE_CONTRAST * noise

    def may_move(self, by: int) -> None:
        """A piece of reply started afresh may sound up to ``by`` delays from where the
        evidence was gathered (``echo_pieces``): a delay stays bounded only as far as all
        its neighbours are, and as high as the highest of them."""
        self.count = nearby(np.where(self.count >= EVIDENCE_BLOCKS, self.count, 0), by).min(axis=1)
        self.ruling = nearby(np.where(self.ruling >= EVIDENCE_BLOCKS, self.ruling, 0), by).min(axis=1)
        self.bound = nearby(self.bound, by).max(axis=1)

    def told(self, delay: int) -> bool:
        """Quiet blocks have ruled out a loud echo at this delay."""
        return bool(self.ruling[delay] >= EVIDENCE_BLOCKS)

    def gains(self, assumed: np.ndarray) -> np.ndarray:
        """Per delay and band: the ``assumed`` band gains, lowered where quiet blocks
        bound them."""
        bounded = np.minimum(assumed[None, :], self.bound[:, None] * BAND_COLOUR)
        return np.where((self.count >= EVIDENCE_BLOCKS)[:, None], bounded, assumed[None, :])


class OneDelay:
    """The delays that have explained every block of the current sound so far (but a
    tenth): the sound is the echo only while one of them explains it."""

    def __init__(self) -> None:
        self._misfits = np.zeros(DELAYS)
        self._blocks = 0
        self._quiet = 0

    def explains(self, sounding: bool, fits: np.ndarray) -> bool:
        """One microphone block (``sounding``: over the room's level; ``fits``: per delay,
        whether the echo at that delay accounts for it). Blocks at the room's level explain
        themselves and, after ``SOUND_ENDS_AFTER`` of them, end the sound."""
        if not sounding:
            self._quiet += 1
            if self._quiet >= SOUND_ENDS_AFTER:
                self._misfits[:] = 0.0
                self._blocks = 0
            return True
        self._quiet = 0
        self._blocks += 1
        self._misfits += ~fits
        standing = self._misfits <= max(1.0, MISFITS_ALLOWED * self._blocks)
        return bool(np.any(standing & fits))

    def may_move(self, by: int) -> None:
        """A piece of reply started afresh may sound up to ``by`` delays from the one
        before it (``echo_pieces``): each delay stands as well as its best neighbour."""
        self._misfits = nearby(self._misfits, by).min(axis=1)

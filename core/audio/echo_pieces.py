"""Each piece of reply that a client starts afresh plays at a delay of its own.

The gate places reply audio on the microphone's timeline as the client plays it: back to
back while the client's queue holds audio, and "now" when a piece arrives after the queue
ran dry. "Now" is known only to the arrival jitter (the network, a busy client's event
loop, the server's own estimate of the microphone clock): a piece started afresh can
sound 50-100 ms earlier or later than the piece before it, while the echo path was
learnt on that one. Expected at the old delay, its echo's syllables stand 6 dB over the
prediction and pass as a voice: the reply interrupts itself (measured: 40 ms of jitter
between two pieces was enough).

So each piece started afresh is judged with slack either side (``JITTER_BLOCKS``, or the
jitter the client's last pieces showed, if less) until its own delay is found (the
onsets of its envelope matched against the microphone's over the known delay ± the
jitter, once ``ALIGN_AFTER_BLOCKS`` of it have been heard and one delay clearly matches
best: onsets, because the envelopes themselves match over a broad plateau on half a
second of speech), and the schedule from it on is moved by the difference: the path
stays one delay for every piece. Before the path is known, a piece started afresh lets
``OneDelay`` and ``QuietEvidence`` move their delays by up to the jitter (``echo_unknown``).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from core.audio.echo_path import ACTIVE_SHARE, ECHO_CORRELATION, MAX_LAG_BLOCKS, correlations

JITTER_BLOCKS = 10  # 100 ms: how far a piece started afresh may sound from where it was placed
ALIGN_AFTER_BLOCKS = 40  # of a piece's echo heard before its delay is judged
ALIGN_LOUD_BLOCKS = 30  # and of them, its voice (within 13 dB of its loudest)
DISTINCT_BLOCKS = 3  # delays this far apart are rival matches, not one match's shoulders
CLEAR_WIN = 0.15  # correlation the best delay must beat every rival by
MAX_PIECES = 32  # pieces started afresh and not yet aligned (older ones are long over)
OFFSETS_KEPT = 8  # the last pieces' offsets from the path, which set the slack
OFFSETS_NEEDED = 3  # pieces aligned before the client's own jitter is trusted
SLACK_MARGIN = 2  # blocks of slack beyond the largest of them
MIN_SLACK = 3


class Pieces:
    """The reply blocks where a piece started afresh, not yet aligned, in order."""

    def __init__(self) -> None:
        self._starts: deque[int] = deque(maxlen=MAX_PIECES)
        self._offsets: deque[int] = deque(maxlen=OFFSETS_KEPT)

    @property
    def slack(self) -> int:
        """Blocks of slack either side for a piece not yet aligned: the jitter this client
        has shown lately, and all of ``JITTER_BLOCKS`` until a few pieces have shown it (a
        steady client's pieces then slow a barge-in no more than a known path does)."""
        if len(self._offsets) < OFFSETS_NEEDED:
            return JITTER_BLOCKS
        return min(JITTER_BLOCKS, max(MIN_SLACK, max(self._offsets) + SLACK_MARGIN))

    @property
    def last(self) -> int | None:
        return self._starts[-1] if self._starts else None

    def began(self, start: int) -> None:
        """A piece was placed at reply block ``start`` after the client's queue ran dry."""
        self._starts.append(start)

    def forget_from(self, block: int) -> None:
        """Reply from ``block`` on will not sound (a clear)."""
        while self._starts and self._starts[-1] >= block:
            self._starts.pop()

    def clear(self) -> None:
        self._starts.clear()

    def loose_between(self, first: int, last: int, until: int) -> bool:
        """Any unaligned piece's blocks (each piece runs to the next start, the last to
        ``until``) among the reply blocks ``first..last``."""
        starts = list(self._starts)
        for index, start in enumerate(starts):
            end = starts[index + 1] if index + 1 < len(starts) else until
            if start <= last and end > first:
                return True
        return False

    def started_within(self, first: int, count: int) -> list[int]:
        """The starts among blocks ``first .. first + count - 1``, as offsets from ``first``."""
        return [start - first for start in self._starts if first <= start < first + count]

    def first(self, until: int) -> tuple[int, int] | None:
        """The oldest unaligned piece: (start, end)."""
        if not self._starts:
            return None
        end = self._starts[1] if len(self._starts) > 1 else until
        return self._starts[0], end

    def done_with_first(self) -> None:
        self._starts.popleft()

    def shift(self, by: int) -> None:
        """The schedule from the oldest piece on moved ``by`` blocks (it is aligned)."""
        self._starts = deque((start + by for start in list(self._starts)[1:]), maxlen=MAX_PIECES)
        self._offsets.append(abs(by))


def piece_delay(mic: np.ndarray, reply: np.ndarray, piece: np.ndarray, lag: int,
                needed: float | None = None) -> int | None:
    """The delay at which a piece's echo follows it best, within ``JITTER_BLOCKS`` of the
    path's ``lag``: ``mic``, the microphone bands over the piece's echo; ``reply``, the
    reply bands over those blocks and the ``MAX_LAG_BLOCKS`` before; ``piece``, which of
    those reply blocks are the piece's; ``needed``, the correlation that makes a match
    (higher with a voice let through over the reply). None when no delay matches (a voice
    over it, or no echo heard)."""
    energy = reply.sum(axis=1)
    loudest = float(energy[piece].max(initial=0.0))
    latest = min(lag + JITTER_BLOCKS, MAX_LAG_BLOCKS)
    heard = np.arange(energy.size) < energy.size - latest  # its echo heard at every delay
    if loudest <= 0.0 or int((piece & heard & (energy > loudest * ACTIVE_SHARE)).sum()) < ALIGN_LOUD_BLOCKS:
        return None  # not enough of its voice heard yet (a piece can open on silence)
    found = correlations(mic, reply, piece, onsets=True)
    low, high = max(lag - JITTER_BLOCKS, 0), min(lag + JITTER_BLOCKS, MAX_LAG_BLOCKS)
    near = found[low : high + 1]
    best = int(np.argmax(near))
    others = np.abs(np.arange(near.size) - best) >= DISTINCT_BLOCKS
    rival = float(near[others].max(initial=-1.0))
    if near[best] < (needed or ECHO_CORRELATION) or near[best] - rival < CLEAR_WIN:
        return None  # no match, or two: more of the piece will tell
    return low + best

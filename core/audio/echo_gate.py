"""The assistant's own voice coming back through the microphone is not the person.

On laptop speakers the reply leaks into the microphone, and the browser's echo
cancellation does not always see audio played through Web Audio (a phone on speaker has
none at all); heard as speech, the reply interrupts itself. The server knows what it sent:
``EchoGate`` schedules the reply's band energies on the microphone's timeline as the
client plays them (back to back from their arrival; a ``clear`` ends them), learns the
echo path (``core.audio.echo_path``) and, frame by frame, silences the microphone frames
the reply explains: those whose energy is within ``MARGIN`` of the echo the path predicts
over the room's own noise, in nearly every band. A person talking over the reply is
louder than its echo in some bands and passes untouched, so a barge-in stays as quick as
without the gate.

Not an echo canceller: frames are passed or silenced whole, never subtracted from.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.audio.echo_bands import BANDS, SAMPLE_RATE, BandAnalyzer
from core.audio.echo_path import (
    EARLY_SLACK,
    MAX_LAG_BLOCKS,
    NO_ECHO,
    NO_ECHO_CORRELATION,
    SMEAR_AFTER,
    SMEAR_BEFORE,
    TALK_ECHO_CORRELATION,
    UNKNOWN,
    WINDOW_BLOCKS,
    EchoPath,
    estimate,
    sounding_together,
)
from core.audio.echo_pieces import ALIGN_AFTER_BLOCKS, JITTER_BLOCKS, Pieces, piece_delay
from core.audio.echo_ring import BlockRing
from core.audio.echo_unknown import DELAYS, OneDelay, QuietEvidence, RoomLevel
from core.audio.resample import StreamResampler

MARGIN = 4.0  # 6 dB over the predicted echo before a band counts as the person's
EXPLAINED_SHARE = 0.8  # of a block's energy within the margin: the block is echo
ESTIMATE_EVERY = 10  # blocks (100 ms)
DOUBLE_TALK_BLOCKS = 10  # blocks of voice let through over the reply in the window: no estimate
REFERENCE_BLOCKS = 4096  # 41 s of reply scheduled ahead and kept behind
# The room's noise floor per band follows a quieter block at once (a tenth of the way)
# and a louder one slowly (+0.9 dB a second): a person talking for seconds on end does not
# lift it to their voice, which would silence their quieter syllables over a reply.
NOISE_FALL, NOISE_RISE = 0.1, 1.002
ANCHOR_WINDOW_MS = 3000  # frames over which the least delayed one places "now" on the timeline
HISTORY_BLOCKS = WINDOW_BLOCKS + MAX_LAG_BLOCKS + SMEAR_AFTER + SMEAR_BEFORE


class EchoGate:
    def __init__(self) -> None:
        self._reply = BlockRing(REFERENCE_BLOCKS)
        self._mic = BlockRing(HISTORY_BLOCKS)
        self._talk = np.zeros(WINDOW_BLOCKS, dtype=bool)  # by block: voice let through over a reply
        self._reply_bands = BandAnalyzer()
        self._mic_bands = BandAnalyzer()
        self._resampler: StreamResampler | None = None
        self._clock = 0  # microphone blocks seen
        # (time, block at time 0 if that frame had come without delay), for the frames of
        # the last ANCHOR_WINDOW_MS: frames wait while the models hold the CPU, so "now" on
        # the microphone's timeline is placed by the least delayed of them.
        self._anchors: deque[tuple[float, float]] = deque(maxlen=4 * ANCHOR_WINDOW_MS // 20)
        self._cursor = 0  # block where the next reply audio starts playing
        self._reply_until = 0  # one past the last block of reply scheduled
        self.path: EchoPath = UNKNOWN
        self._evidence = QuietEvidence()
        self._one_delay = OneDelay()
        self._pieces = Pieces()  # reply pieces started afresh, their own delay not yet found
        self._piece_start = 0  # the block where the latest piece started afresh
        self._room = RoomLevel()
        self._noise: np.ndarray | None = None  # the microphone's floor per band
        self.silenced_frames = 0  # frames the gate took as the reply's echo

    # ----- what the client plays --------------------------------------------------------
    def _position(self, now_ms: float) -> int:
        """The microphone block being recorded at ``now_ms``."""
        if not self._anchors:
            return self._clock
        return max(self._clock, int(max(anchor for _, anchor in self._anchors) + now_ms / 10))

    def sent(self, pcm: bytes, sample_rate: int, now_ms: float) -> None:
        """Reply audio sent to the client: it plays after what is queued, or now."""
        samples = np.frombuffer(pcm, dtype="<i2")
        if sample_rate != SAMPLE_RATE:
            if self._resampler is None or self._resampler.in_rate != sample_rate:
                self._resampler = StreamResampler(sample_rate, SAMPLE_RATE)
            samples = self._resampler.process(samples)
        now = self._position(now_ms)
        if self._cursor < now:  # the client's queue ran dry: this plays on arrival
            self._cursor = now
            self._reply_bands.reset()
            self._pieces.began(now)
            self._piece_start = now
        elif self._cursor - now < JITTER_BLOCKS and self._pieces.last != self._cursor:
            # Queued for less than the arrival jitter: it may as well have run dry.
            self._pieces.began(self._cursor)
        rows = self._reply_bands.blocks(samples)
        if self._cursor + rows.shape[0] - now >= REFERENCE_BLOCKS - HISTORY_BLOCKS:
            return  # further ahead than the schedule holds: not compared
        self._reply.write(self._cursor, rows)
        self._cursor += rows.shape[0]
        self._reply_until = self._cursor

    def stopped(self, now_ms: float) -> None:
        self._stop_at(self._position(now_ms))  # (a clear: nothing more of it sounds)

    def played(self, now_ms: float) -> None:
        """The client has played all it was sent. With over 500 ms of it still to come on
        the schedule, it did not play it as it came (a client that never plays, or reports
        at once): none of it sounds, not even what the schedule placed before now."""
        now = self._position(now_ms)
        if self._reply_until - now > MAX_LAG_BLOCKS:
            self._reply.forget_from(max(self._reply_until - REFERENCE_BLOCKS, 0), now)
            self._pieces.clear()
        self._stop_at(now)

    def _stop_at(self, now: int) -> None:
        self._reply.forget_from(now, self._reply_until)
        self._pieces.forget_from(now)
        self._cursor = self._reply_until = min(self._reply_until, now)
        self._reply_bands.reset()

    def reset(self) -> None:
        """Listening starts anew: what was scheduled on the old timeline is gone (the
        path learnt stays: the same client, the same room)."""
        self._reply.clear()
        self._pieces.clear()
        self._anchors.clear()
        self._cursor = self._reply_until = self._clock
        self._reply_bands.reset()
        self._mic_bands.reset()

    # ----- what the microphone hears ----------------------------------------------------
    def filter(self, frame: bytes, now_ms: float) -> bytes:
        """``frame`` (PCM16 at 16 kHz, whole 10 ms blocks, heard by ``now_ms``) as it is,
        or silence when the reply's echo explains it."""
        rows = self._mic_bands.blocks(np.frombuffer(frame, dtype="<i2"))
        first, count = self._clock, rows.shape[0]
        self._mic.write(first, rows)
        self._clock += count
        self._track_noise(rows)
        self._room.hear(rows.sum(axis=1))
        anchors = self._anchors
        anchors.append((now_ms, self._clock - now_ms / 10))
        while anchors[0][0] < now_ms - ANCHOR_WINDOW_MS:
            anchors.popleft()
        if count:
            self._talk[np.arange(first, first + count) % WINDOW_BLOCKS] = False  # (until marked)
        if count and self._clock // ESTIMATE_EVERY != first // ESTIMATE_EVERY:
            self._estimate()
        if count == 0 or not self._reply_near(first):
            return frame
        # Nothing comes back (headphones): every frame is the person's, soft consonants
        # too, which the reply at -40 dB could otherwise explain; a later echo is still
        # looked for (``_estimate``).
        nothing_back = self.path.lag is None and self.path.gains is NO_ECHO.gains
        echo = np.zeros(count, dtype=bool) if nothing_back else self._explained(rows, first)
        if int(echo.sum()) * 2 <= count:  # (a word's first 10 ms after two quiet ones waits a frame)
            self._mark_talk(first, rows)
            return frame
        self.silenced_frames += 1
        return bytes(len(frame))

    def _track_noise(self, rows: np.ndarray) -> None:
        for row in rows:
            noise = self._noise if self._noise is not None else row
            tracked = np.where(row < noise, noise + NOISE_FALL * (row - noise), noise * NOISE_RISE)
            self._noise = np.maximum(tracked, 1.0)  # (after digital silence it can still rise)

    def _mark_talk(self, first: int, rows: np.ndarray) -> None:
        """Someone talked over the reply in these blocks (let through, 6 dB over the room)."""
        noise = float(self._noise.sum()) if self._noise is not None else 0.0
        loud = rows.sum(axis=1) > MARGIN * max(noise, self._room.level)
        self._talk[np.arange(first, first + rows.shape[0]) % WINDOW_BLOCKS] = loud

    def _reply_near(self, first: int) -> bool:
        """Any reply scheduled that could sound in these blocks, at any delay."""
        return self._reply_until > first - MAX_LAG_BLOCKS - SMEAR_AFTER and self._reply_until > 0

    def _explained(self, rows: np.ndarray, first: int) -> np.ndarray:
        """Per block: is its energy the predicted echo's, within the margin?"""
        path = self.path
        noise = self._noise if self._noise is not None else np.zeros(BANDS)
        if path.lag is not None:
            low, high = path.lag + SMEAR_AFTER, path.lag - EARLY_SLACK
            slack = self._pieces.slack
            if self._pieces.loose_between(first - low - slack, first + rows.shape[0] - high + slack,
                                          self._reply_until):
                low, high = low + slack, high - slack  # its own delay not found yet
            high = max(high, 0)
            span = self._reply.read(first - low, rows.shape[0] + low - high)
            loudest = sliding_window_view(span, low - high + 1, axis=0).max(axis=2) * path.gains
            return self._within(rows, loudest, noise)
        # Every delay the path may have, bounded by what was heard, and one of them must
        # explain the whole sound.
        if self._pieces.started_within(first, rows.shape[0]):  # (the earliest it can sound)
            self._one_delay.may_move(JITTER_BLOCKS)
            self._evidence.may_move(JITTER_BLOCKS)
        at_delays, quietest = self._reply_at_delays(first, rows.shape[0])
        heard, reply, floor = rows.sum(axis=1), at_delays.sum(axis=2), self._room.level
        # (evidence about the delay of this piece only: an earlier one's may differ)
        own = first + np.arange(rows.shape[0])[:, None] - np.arange(DELAYS)[None, :] >= self._piece_start
        surely = np.where(own, quietest.sum(axis=2), 0.0)
        self._evidence.observe(heard, np.where(own, reply, 0.0), floor, surely)
        gains = self._evidence.gains(path.gains)
        explained = self._within(rows, (at_delays * gains[None]).max(axis=1), noise)
        fits = heard[:, None] <= MARGIN * (reply * gains.max(axis=1)[None, :] + floor)
        sounding = heard > MARGIN * floor
        for block in range(rows.shape[0]):
            explained[block] &= self._one_delay.explains(bool(sounding[block]), fits[block])
        return explained

    @staticmethod
    def _within(rows: np.ndarray, loudest: np.ndarray, noise: np.ndarray) -> np.ndarray:
        predicted = (loudest + noise) * MARGIN
        beyond = np.maximum(rows - predicted, 0.0).sum(axis=1)
        return beyond <= (1.0 - EXPLAINED_SHARE) * np.maximum(rows.sum(axis=1), 1e-9)

    def _reply_at_delays(self, first: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The loudest and the quietest of the reply that may sound in each of ``count``
        microphone blocks from ``first``, at each delay 0..MAX_LAG_BLOCKS: blocks x delays
        x bands, each."""
        together = sounding_together(self._reply.read(first - MAX_LAG_BLOCKS - SMEAR_AFTER,
                                                      count + MAX_LAG_BLOCKS + SMEAR_AFTER + SMEAR_BEFORE))
        rows = MAX_LAG_BLOCKS + SMEAR_AFTER + np.arange(count)[:, None] - np.arange(DELAYS)[None, :]
        return together.max(axis=2)[rows], together.min(axis=2)[rows]

    def _estimate(self) -> None:
        end = self._clock
        if self._reply_until <= end - WINDOW_BLOCKS - MAX_LAG_BLOCKS:
            return  # no reply in the window
        talked = int(self._talk.sum()) >= DOUBLE_TALK_BLOCKS  # someone talked over the reply
        if talked and self.path.lag is not None:
            return  # what follows the reply now is not the path alone: keep the one known
        mic = self._mic.read(end - WINDOW_BLOCKS, WINDOW_BLOCKS)
        first, count = end - WINDOW_BLOCKS - MAX_LAG_BLOCKS, WINDOW_BLOCKS + MAX_LAG_BLOCKS
        reply, scheduled = self._reply.read(first, count), self._reply.written(first, count)
        path = estimate(mic, reply, scheduled, self.path, talked)
        if path.gains is NO_ECHO.gains and self.path.gains is not NO_ECHO.gains and self.path.lag is None:
            # "Nothing comes back" must hold for the latest piece alone too (two pieces at
            # delays of their own do not follow the reply at any one delay together), and
            # unless nothing follows the reply at all (or a voice over it is what does), the
            # quiet microphone must have ruled out the delay that follows it best: a weak
            # echo in a noisy room follows the reply loosely (0.48 at -20 dB) but is never
            # at the floor there.
            own = scheduled.copy()
            own[: max(self._piece_start - first, 0)] = False
            alone = estimate(mic, reply, own, self.path, talked)
            if alone.gains is not NO_ECHO.gains:
                path = alone
            elif (not talked and path.correlation >= NO_ECHO_CORRELATION and path.nearest is not None
                  and not self._evidence.told(path.nearest)):
                path = self.path
        self.path = path
        self._align(talked)

    def _align(self, talked: bool) -> None:
        """Find the delay of the oldest piece started afresh, once enough of it has been
        heard, and move the schedule from it on so that the path's delay is its own."""
        lag, piece = self.path.lag, self._pieces.first(self._reply_until)
        if lag is None or piece is None:
            return
        start, end = piece
        heard_from = start + lag - JITTER_BLOCKS  # the earliest its echo can begin
        if self._clock - heard_from < ALIGN_AFTER_BLOCKS + 2 * JITTER_BLOCKS:
            return
        mic_first = max(heard_from, self._clock - WINDOW_BLOCKS)
        width = self._clock - mic_first
        reply_first = mic_first - MAX_LAG_BLOCKS
        positions = np.arange(reply_first, self._clock)
        in_piece = (positions >= start) & (positions < end) & self._reply.written(reply_first, positions.size)
        delay = piece_delay(self._mic.read(mic_first, width), self._reply.read(reply_first, positions.size),
                            in_piece, lag, TALK_ECHO_CORRELATION if talked else None)
        if delay is None:
            if self._clock > end + lag + JITTER_BLOCKS + SMEAR_AFTER:
                self._pieces.done_with_first()  # all of it heard, never matched: judged as the rest
            return
        if delay != lag:
            self._move_schedule(start, delay - lag)
        self._pieces.shift(delay - lag)

    def _move_schedule(self, start: int, by: int) -> None:
        """The client plays the reply from block ``start`` on ``by`` blocks later (or earlier)."""
        count = self._reply_until - start
        if count <= 0:
            return
        rows = self._reply.read(start, count)
        self._reply.forget_from(start, self._reply_until)
        self._reply.write(start + by, rows)
        self._cursor += by
        self._reply_until += by

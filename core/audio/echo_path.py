"""How the reply the server sent comes back in the microphone: after what delay, how loud
in each band; or that it does not come back (headphones, the browser's own echo
cancellation).

The delay is where the microphone's loudness envelope follows the reply's best (a
correlation of log band-energy envelopes over the last two seconds, at every lag up to
``MAX_LAG_BLOCKS``, on the same stretch of reply for every lag), provided the microphone
is a steady share of the reply there: an echo is the reply through a fixed path, so its
level follows the reply's within a few dB, while a person talking over the reply may
happen to start and stop with it (their level against the reply's then spreads more:
6.6 dB over the middle half against 4.4-5.1 for echoes, measured on the project's
recordings; and is often louder than the reply itself, which no echo is). The gain of
each band is the upper quartile of microphone over reply energy at that delay, over the
blocks where the reply was loud. Once a stretch of reply has been heard at every delay
(0.8-1.2 s into a session's first reply, after its leading silence) and what came
back is not an echo, there is none. Until then the path is assumed at -5 dB at any delay
(``UNKNOWN_GAIN``: the loudest leak the product is held to, -10 dB, with room for a loud
band). A known echo is given up only when the microphone falls 10 dB under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.audio.echo_bands import BANDS

MAX_LAG_BLOCKS = 50  # 500 ms: network, the page's player and the microphone, there and back
WINDOW_BLOCKS = 200  # two seconds of microphone behind each estimate
MIN_SPAN_BLOCKS = 30  # blocks of reply playing (pauses included) to judge a delay by
MIN_LOUD_BLOCKS = 15  # and of them loud
ECHO_CORRELATION = 0.5  # envelopes this alike at one delay: the reply comes back
TALK_ECHO_CORRELATION = 0.8  # the same, when voice was let through over the reply
NO_ECHO_CORRELATION = 0.25  # and under this (and quieter): a known echo has gone
UNKNOWN_GAIN = 0.3  # band energy ratio assumed before anything is known (-5 dB)
QUIET_GAIN = 1e-4  # -40 dB: what "no echo" keeps, so a later echo is still compared
ENVELOPE_RANGE = 1e-3  # the log envelopes' floor, 30 dB under their loudest block
GAIN_PERCENTILE = 75  # of the ratios at the delay: the echo at its louder, not its usual
ACTIVE_SHARE = 0.05  # a reply block counts as loud within 13 dB of the window's loudest
GAIN_HOLD = 0.8  # a band's gain falls at most 1 dB an estimate (every 100 ms)
LAG_HYSTERESIS = 0.1  # correlation a new delay must win by
ONSET_DOUBT = 0.3  # a first delay whose onsets match this much worse than elsewhere waits
TALK_ONSET_CORRELATION = 0.5  # and, with a voice over the reply, whose onsets match less than this
STEADY_SPREAD = 0.7  # log10 units: the middle half of mic/reply levels within 7 dB
LOUDEST_ECHO = 0.0  # log10 units: an "echo" louder than the reply as sent is the person
SMEAR_BEFORE, SMEAR_AFTER = 1, 3  # blocks of slack: a misjudged delay, a room's reverberation
# A delay judged from the envelopes of one or two phrases can come out late by 30 ms (a
# room's tail drags the envelopes' best match later): the known delay's echo is expected
# from this many blocks earlier (its onsets would pass as speech otherwise).
EARLY_SLACK = 3


@dataclass(frozen=True)
class EchoPath:
    """``lag`` None: the delay is not known, the reply is compared at every delay."""

    lag: int | None
    gains: np.ndarray  # per band: microphone energy per unit of reply energy
    correlation: float = 0.0
    level: float = 0.0  # log10 of the echo's energy per unit of reply energy (known echoes)
    candidate: int | None = None  # a delay found once, to be confirmed by the next estimate
    nearest: int | None = None  # with "no echo": the delay that followed the reply best


UNKNOWN = EchoPath(None, np.full(BANDS, UNKNOWN_GAIN))
NO_ECHO = EchoPath(None, np.full(BANDS, QUIET_GAIN))


def sounding_together(reply: np.ndarray) -> np.ndarray:
    """Each block: the reply blocks that may sound in it, rows ``i - SMEAR_AFTER .. i +
    SMEAR_BEFORE`` (blocks x bands x those rows; a view, not a copy)."""
    padded = np.pad(reply, ((SMEAR_AFTER, SMEAR_BEFORE), (0, 0)))
    return sliding_window_view(padded, SMEAR_AFTER + SMEAR_BEFORE + 1, axis=0)


def smeared(reply: np.ndarray) -> np.ndarray:
    """Each block: the loudest of the reply blocks that may sound in it (rows = blocks)."""
    return sounding_together(reply).max(axis=2)


def _log_envelope(bands: np.ndarray) -> np.ndarray:
    energy = bands.sum(axis=1)
    return np.log10(energy + max(float(energy.max(initial=0.0)) * ENVELOPE_RANGE, 1e-9))


def _rises(envelope: np.ndarray) -> np.ndarray:
    """How much louder each block is than the one before (0 when quieter): onsets, which
    an echo keeps sharp while a room's tail smears the decays."""
    return np.maximum(np.diff(envelope, prepend=envelope[:1]), 0.0)


def correlations(mic: np.ndarray, reply: np.ndarray, sounding: np.ndarray,
                 onsets: bool = False) -> np.ndarray:
    """Pearson correlation of the envelopes (or, with ``onsets``, of their rises) at each
    lag 0..MAX_LAG_BLOCKS, over the microphone blocks that the ``sounding`` reply blocks
    (its pauses included; the person's words before and after it left out) fall in at
    that lag."""
    width = mic.shape[0]
    mic_env, reply_full = _log_envelope(mic), _log_envelope(reply)
    if onsets:
        mic_env, reply_full = _rises(mic_env), _rises(reply_full)
    reply_env = sliding_window_view(reply_full, width)[::-1]  # row = lag
    weights = sliding_window_view(sounding.astype(np.float64), width)[::-1]
    count = weights.sum(axis=1)
    safe = np.maximum(count, 1.0)
    mic_mean = (weights @ mic_env) / safe
    reply_mean = (weights * reply_env).sum(axis=1) / safe
    covariance = (weights * reply_env) @ mic_env - count * mic_mean * reply_mean
    mic_var = weights @ (mic_env**2) - count * mic_mean**2
    reply_var = (weights * reply_env**2).sum(axis=1) - count * reply_mean**2
    with np.errstate(invalid="ignore", divide="ignore"):
        result = covariance / np.sqrt(np.maximum(mic_var, 0.0) * np.maximum(reply_var, 0.0))
    return np.nan_to_num(result, nan=0.0, posinf=0.0, neginf=0.0)


def _onsets_doubt(onsets: np.ndarray, lag: int) -> bool:
    """On a short stretch the envelopes match over a broad plateau and can peak far off
    (a quiet echo in room noise: 500 ms away at 0.91, the true delay 0.84); the onsets,
    which an echo keeps sharp, then match much better elsewhere (0.47 there, 0.91 at the
    true delay). A first delay is taken only where its onsets match nearly as well as
    anywhere (``onsets``: their correlation at each lag)."""
    return bool(onsets[lag] < float(onsets.max()) - ONSET_DOUBT)


def _voice_by_chance(onsets: np.ndarray, lag: int) -> bool:
    """With a voice over the reply, a first delay is taken only where the onsets match
    too: a voice that started just after the reply and was cut with it followed its
    envelope at 0.86 over 0.3 s, its onsets at 0.4 (echoes under a voice: 0.55-0.91,
    one 0.27, which waits for a quieter stretch)."""
    return bool(onsets[lag] < TALK_ONSET_CORRELATION)


def estimate(mic: np.ndarray, reply: np.ndarray, scheduled: np.ndarray, previous: EchoPath,
             talked: bool = False) -> EchoPath:
    """The path from the last ``WINDOW_BLOCKS`` of microphone bands (``mic``) and the reply
    bands over those blocks and the ``MAX_LAG_BLOCKS`` before (``reply``; ``scheduled``:
    which of them the client was playing). ``previous`` stands while the window cannot
    tell."""
    width = mic.shape[0]
    reply_energy = reply.sum(axis=1)
    loudest = float(reply_energy.max(initial=0.0))
    if loudest <= 0.0:
        return previous
    # The reply blocks compared: those the window holds at every delay (so each delay is
    # judged on the same reply, as many blocks), from the first loud one to the last (not
    # its silent ends).
    loud_rows = np.nonzero(reply_energy > loudest * ACTIVE_SHARE)[0]
    sounding = scheduled.copy()
    sounding[: max(MAX_LAG_BLOCKS, int(loud_rows[0]))] = False
    sounding[min(width, int(loud_rows[-1]) + 1) :] = False
    if int(sounding.sum()) < MIN_SPAN_BLOCKS:
        return previous  # not yet heard at every delay
    found = correlations(mic, reply, sounding)
    lag = int(np.argmax(found))
    # A first delay is judged by the onsets too (once, for both checks below).
    onsets = correlations(mic, reply, sounding, onsets=True) if previous.lag is None else None
    if previous.lag is not None and found[previous.lag] >= found[lag] - LAG_HYSTERESIS:
        lag = previous.lag  # a client's delay does not wander: keep it unless clearly beaten
    elif onsets is not None and _onsets_doubt(onsets, lag):
        return previous  # not decided yet: more of the reply will tell
    best = float(found[lag])
    at_lag = smeared(reply)[MAX_LAG_BLOCKS - lag: MAX_LAG_BLOCKS - lag + width]
    loud = at_lag.sum(axis=1) > loudest * ACTIVE_SHARE
    if int(loud.sum()) < MIN_LOUD_BLOCKS:
        return previous
    levels = np.log10(np.maximum(mic[loud].sum(axis=1), 1e-9) / np.maximum(at_lag[loud].sum(axis=1), 1e-9))
    steady = float(np.percentile(levels, 75) - np.percentile(levels, 25)) <= STEADY_SPREAD
    louder = float(np.median(levels)) > LOUDEST_ECHO
    # With voice let through over the reply in the window (no echo believed, or a person
    # talking), only a close follower is an echo: a voice reaches 0.5-0.67 by chance.
    needed = TALK_ECHO_CORRELATION if talked else ECHO_CORRELATION
    if best >= needed and steady and not louder:
        if talked and onsets is not None and _voice_by_chance(onsets, lag):
            return previous
        if previous.lag != lag and previous.candidate != lag:
            # A new delay must be found twice in a row (100 ms apart): a voice that happens
            # to follow the reply in one window does not in the next.
            return EchoPath(previous.lag, previous.gains, previous.correlation, previous.level, candidate=lag)
        ratios = mic[loud] / np.maximum(at_lag[loud], 1e-9)
        gains = np.percentile(ratios, GAIN_PERCENTILE, axis=0)
        if previous.lag == lag:  # held: a band estimated low in one window does not let a burst through
            gains = np.maximum(gains, previous.gains * GAIN_HOLD)
        return EchoPath(lag, gains, best, float(np.median(levels)))
    if previous.lag is None and previous.candidate is None and (best < ECHO_CORRELATION or louder):
        # Heard at every delay and nothing follows the reply, or what follows it is louder
        # than it (the person talking over it): nothing comes back. (Following it but
        # unsteady can be an echo in a noisy stretch: not decided yet.)
        return EchoPath(None, NO_ECHO.gains, best, nearest=lag)
    if previous.lag is None:  # (a delay found once and not again is dropped)
        return EchoPath(None, previous.gains, previous.correlation, previous.level)
    echo_gone = float(np.median(levels)) < previous.level - 1.0  # 10 dB under it
    if best < NO_ECHO_CORRELATION and echo_gone:
        return EchoPath(None, NO_ECHO.gains, best)  # quieter than the echo was: it has gone
    return previous  # (the person talking over a known echo: it is still there)

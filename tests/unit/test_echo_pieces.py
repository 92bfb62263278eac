"""Reply pieces that a client starts afresh (its queue ran dry) at a delay of their own:
the Beckett recording sent in pieces, each heard back with its own arrival jitter, as a
busy client or network plays them."""

from __future__ import annotations

import numpy as np
import pytest

import core.audio.echo_gate as gate_module
import core.audio.echo_pieces as pieces_module
from core.audio.echo_bands import BANDS
from core.audio.echo_gate import EchoGate
from core.audio.echo_path import MAX_LAG_BLOCKS
from core.audio.echo_pieces import JITTER_BLOCKS, Pieces, piece_delay
from core.audio.echo_unknown import DELAYS, EVIDENCE_BLOCKS, OneDelay, QuietEvidence
from core.audio.resample import StreamResampler
from monitoring.bench.reply_pieces import through_gate
from tests.unit.test_echo_gate import PERSON, REPLY, room

FIRST_AT_S = 1.0


def pieces_run(lengths_s: list[float], jitters_ms: list[int], level_db: float = -10.0,
               delay_ms: int = 120, gap_s: float = 0.25, person_at_s: float | None = None,
               reverberant: bool = True) -> tuple[EchoGate, list[float]]:
    """Piece k of the reply is sent ``gap_s`` after piece k-1 has played out and sounds
    ``jitters_ms[k]`` later than the client's usual delay. The speech starts, seconds."""
    total_s = FIRST_AT_S + sum(lengths_s) + gap_s * len(lengths_s) + 3.0
    mic = np.random.default_rng(1).normal(0, 30, int(16000 * total_s))
    sends: list[tuple[float, bytes]] = []
    at_s, taken_s = FIRST_AT_S, 0.0
    for length_s, jitter_ms in zip(lengths_s, jitters_ms, strict=True):
        piece = REPLY[int(taken_s * 16000): int((taken_s + length_s) * 16000)]
        taken_s += length_s
        sent = StreamResampler(16000, 22050).process(piece.astype("<i2"), last=True).tobytes()
        sends.append((at_s * 1000, sent))
        echo = room(piece, reverberant) * 10 ** (level_db / 20)
        start = int((at_s + (delay_ms + jitter_ms) / 1000) * 16000)
        mic[start : start + echo.size] += echo[: mic.size - start]
        at_s += length_s + gap_s
    if person_at_s is not None:
        start = int(person_at_s * 16000)
        mic[start : start + PERSON.size] += PERSON[: mic.size - start]
    return through_gate(mic, sends)


def without_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: every piece is expected at the delay learnt on the first."""
    monkeypatch.setattr(gate_module, "JITTER_BLOCKS", 0)
    monkeypatch.setattr(pieces_module, "JITTER_BLOCKS", 0)
    monkeypatch.setattr(gate_module, "piece_delay", lambda *args, **kwargs: None)


# Known path: three pieces of 1.6 s, the later ones 40-80 ms off the first.
KNOWN = [([0, 60, 20], 0.05), ([0, 80, 0], 0.05), ([0, -80, 0], 0.05), ([0, 40, 0], 0.25), ([0, 80, 0], 0.25)]


@pytest.mark.parametrize(("jitters_ms", "gap_s"), KNOWN)
def test_a_piece_started_afresh_at_its_own_delay_does_not_interrupt_the_reply(jitters_ms, gap_s) -> None:
    gate, starts = pieces_run([1.6, 1.6, 1.6], jitters_ms, gap_s=gap_s)
    assert starts == []
    assert gate.path.lag is not None


@pytest.mark.parametrize(("jitters_ms", "gap_s"), KNOWN[:2])
def test_control_expected_at_the_first_pieces_delay_the_same_pieces_interrupt_it(
        monkeypatch, jitters_ms, gap_s) -> None:
    without_pieces(monkeypatch)
    _, starts = pieces_run([1.6, 1.6, 1.6], jitters_ms, gap_s=gap_s)
    assert starts


@pytest.mark.parametrize(("lengths_s", "jitters_ms", "gap_s"),
                         [([0.8, 1.6], [0, 41], 0.15), ([0.5, 0.5], [0, 27], 0.15),
                          ([0.5, 0.8], [0, -60], 0.15), ([0.8, 1.6], [0, -41], 0.15)])
def test_before_the_path_is_known_a_piece_may_move_its_delay(lengths_s, jitters_ms, gap_s) -> None:
    """A first reply's short opening ("Sure,") and the next piece, 30-60 ms apart: the
    evidence and the one delay gathered on the first must not rule out the second's."""
    _, starts = pieces_run(lengths_s, jitters_ms, gap_s=gap_s, reverberant=False)
    assert starts == []


def test_control_before_the_path_is_known_evidence_kept_exact_rules_out_the_next_piece(monkeypatch) -> None:
    without_pieces(monkeypatch)
    _, starts = pieces_run([0.5, 0.8], [0, -60], gap_s=0.15, reverberant=False)
    assert starts


@pytest.mark.parametrize("level_db", [-10.0, -20.0])
@pytest.mark.parametrize("person_at_s", [4.9, 5.3])
def test_a_person_over_a_piece_not_yet_aligned_is_heard_at_once(level_db: float, person_at_s: float) -> None:
    """The third piece starts at 4.7 s, 40 ms early: its slack is widest now."""
    _, starts = pieces_run([1.6, 1.6, 1.6], [0, 60, -40], level_db, person_at_s=person_at_s)
    assert starts, "the person was not heard"
    assert starts[0] >= person_at_s - 0.03, "speech heard before the person spoke"
    assert starts[0] - (person_at_s + 0.05) <= 0.15


def test_pieces_know_which_blocks_are_not_aligned_and_move_with_the_schedule() -> None:
    pieces = Pieces()
    pieces.began(100)
    pieces.began(300)
    assert pieces.first(until=500) == (100, 300)
    assert pieces.loose_between(250, 260, until=500) and pieces.loose_between(450, 460, until=500)
    assert not pieces.loose_between(500, 600, until=500) and not pieces.loose_between(0, 99, until=500)
    assert pieces.started_within(290, 20) == [10]
    pieces.shift(4)  # the first found 4 blocks later: the rest of the schedule moves with it
    assert pieces.first(until=504) == (304, 504)
    pieces.forget_from(304)
    assert pieces.first(until=504) is None


def test_a_pieces_delay_is_where_its_onsets_come_back() -> None:
    rng = np.random.default_rng(5)
    width, true_lag = 120, 17
    blocks = width + MAX_LAG_BLOCKS
    envelope = np.full(blocks, 1e3)  # syllables of random lengths and levels, between pauses
    at = 0
    while at < blocks:
        length = int(rng.integers(4, 12))
        envelope[at : at + length] = rng.uniform(1e6, 1e8)
        at += length + int(rng.integers(2, 8))
    reply = np.repeat(envelope[:, None], BANDS, axis=1)
    mic = reply[MAX_LAG_BLOCKS - true_lag : MAX_LAG_BLOCKS - true_lag + width] * 0.1 + 1e3
    piece = np.ones(reply.shape[0], dtype=bool)
    assert piece_delay(mic, reply, piece, lag=true_lag - 6) == true_lag
    assert piece_delay(mic, reply, piece, lag=true_lag + JITTER_BLOCKS + 5) is None  # beyond the slack
    noise = rng.uniform(1e5, 1e7, (width, BANDS))
    assert piece_delay(noise, reply, piece, lag=true_lag) is None  # nothing follows it


def test_a_delay_may_move_as_far_as_the_jitter_and_no_further() -> None:
    one = OneDelay()
    fits = np.zeros(DELAYS, dtype=bool)
    fits[20] = True
    for _ in range(20):
        one.explains(True, fits)  # only delay 20 explains the sound so far
    moved = np.zeros(DELAYS, dtype=bool)
    moved[20 + JITTER_BLOCKS] = True
    far = np.zeros(DELAYS, dtype=bool)
    far[20 + JITTER_BLOCKS + 2] = True
    one.may_move(JITTER_BLOCKS)
    assert one.explains(True, moved)
    assert not one.explains(True, far)


def test_evidence_moves_with_the_piece_but_a_quiet_room_stays_quiet() -> None:
    evidence = QuietEvidence()
    reply = np.full((EVIDENCE_BLOCKS, DELAYS), 1e7)
    reply[:, 20] = 0.0  # the echo's own delay: never quiet while loud there
    evidence.observe(np.full(EVIDENCE_BLOCKS, 2e3), reply, noise=1e3)
    assumed = np.full(BANDS, 0.3)
    assert np.all(evidence.gains(assumed)[25] < 1e-2)  # 50 ms off the echo: ruled out
    evidence.may_move(JITTER_BLOCKS)
    assert np.all(evidence.gains(assumed)[25] == 0.3)  # a piece started afresh may sound there
    assert np.all(evidence.gains(assumed)[40] < 1e-2)  # but not 200 ms off

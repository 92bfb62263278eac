"""``make bench`` exits non-zero when a figure misses its target (docs/performance.md)."""

from __future__ import annotations

import copy
import itertools
import json

import numpy as np

from monitoring.bench import first_reply
from monitoring.bench.targets import missed_targets
from tests.conftest import ROOT


def recorded() -> dict:
    return json.loads((ROOT / "docs" / "results" / "bench-conversation.json").read_text())


def test_the_recorded_run_meets_every_target() -> None:
    assert missed_targets(recorded()) == []


def test_each_missed_target_is_named() -> None:
    slow = copy.deepcopy(recorded())
    slow["v2v_ms"]["p50"] = 1113.4
    late = copy.deepcopy(recorded())
    late["barge_in_ms"]["p95"] = 151.0
    leaked = copy.deepcopy(recorded())
    leaked["audio_after_clear"] = 2
    assert missed_targets(slow) == ["voice-to-voice p50 at most 700 ms"]
    assert missed_targets(late) == ["barge-in p95 at most 150 ms"]
    assert missed_targets(leaked) == ["no audio of a cleared turn after its clear"]


def test_turn_taking_targets_are_held_per_kind_of_material() -> None:
    summary = copy.deepcopy(recorded())
    summary["v2v_ms_by_kind"] = {"human-phrases": {"n": 12, "p50": 420.0, "p95": 700.0}}
    summary["monologues"] = {
        "synthetic-commas": {"over_s_per_minute": 0.4, "cut_off_share": 0.0, "answered_after_end": 20,
                             "monologues": 20},
        "neural-commas": {"over_s_per_minute": 2.0, "cut_off_share": 0.25, "answered_after_end": 3,
                          "monologues": 4},
    }
    summary["backchannels"] = {"synthetic": {"n": 25, "measured": 25, "stopped": 3, "stopped_share": 0.12}}
    assert missed_targets(summary) == [
        "neural-commas: reply audio over the talker at most 0.5 s a minute",
        "neural-commas: monologues cut off at most 5%",
        "neural-commas: every monologue answered after its end",
        "synthetic backchannels that stopped the reply at most 10%",
        "human-phrases voice-to-voice p95 at most 650 ms",
    ]


def test_echo_targets_are_held_per_level() -> None:
    summary = copy.deepcopy(recorded())
    level = {"replies": 20, "answered": 20, "self_interrupted": 0, "barge_ins": 5, "barge_ins_failed": 0,
             "barge_in_ms_p95": 90.0}
    summary["echo"] = {"synthetic": {"-10 dB": {**level, "self_interrupted": 1},
                                     "-20 dB": {**level, "barge_ins_failed": 1}}}
    assert missed_targets(summary) == [
        "synthetic echo at -10 dB: every reply answered, none interrupted by its echo",
        "synthetic echo at -20 dB: barge-in p95 at most 150 ms",
    ]


def test_the_first_reply_bench_fails_on_an_echo_or_a_late_voice() -> None:
    met = {"echo_started_speech": {"-10 dB": 0, "-6 dB": 2},
           "talked_over": {"question at 0 dB": {"cases": 72, "never": 0, "p50_ms": 240.0, "p90_ms": 355.0}}}
    assert first_reply.missed(met) == []
    echoed = copy.deepcopy(met)
    echoed["echo_started_speech"]["-10 dB"] = 1
    late = copy.deepcopy(met)
    late["talked_over"]["question at 0 dB"]["p90_ms"] = 500.0
    lost = copy.deepcopy(met)
    lost["talked_over"]["question at 0 dB"]["never"] = 1
    assert first_reply.missed(echoed) == ["the first reply's echo at -10 dB started speech"]
    assert [len(first_reply.missed(s)) for s in (late, lost)] == [1, 1]


def test_the_reply_pieces_bench_fails_on_an_echo_at_the_held_levels_or_a_late_voice() -> None:
    from monitoring.bench import reply_pieces

    met = {"echo_started_speech": {"-10 dB": 0, "-20 dB": 0, "-6 dB": 3},
           "question_over_last_piece": {"cases": 24, "never": 0, "p50_ms": 60.0, "p90_ms": 150.0}}
    assert reply_pieces.missed(met) == []
    echoed = copy.deepcopy(met)
    echoed["echo_started_speech"]["-20 dB"] = 1
    assert reply_pieces.missed(echoed) == ["the echo at -20 dB started speech in 1 replies"]
    late = copy.deepcopy(met)
    late["question_over_last_piece"]["p90_ms"] = 450.0
    lost = copy.deepcopy(met)
    lost["question_over_last_piece"]["never"] = 1
    assert [len(reply_pieces.missed(s)) for s in (late, lost)] == [1, 1]


def test_the_reply_pieces_layout_sends_each_sentence_after_the_last_has_played() -> None:
    from monitoring.bench import reply_pieces

    sentences = [np.zeros(16000 * n) for n in (1, 2, 3, 4)]
    pieces, jitters = reply_pieces.layout(sentences, np.random.default_rng(0), delay_ms=40)
    assert 2 <= len(pieces) <= 4 and len(jitters) == len(pieces) and jitters[0] == 0.0
    for (at, samples), (next_at, _) in itertools.pairwise(pieces):
        assert next_at - (at + samples.size / 16000) >= min(reply_pieces.GAPS_MS) / 1000 - 1e-9
    assert all(abs(j) <= reply_pieces.JITTER_MS / 1000 and 40 + j * 1000 >= 20 for j in jitters)


def test_the_line_ends_bench_misses_when_finished_lines_wait_or_fragments_pass() -> None:
    from monitoring.bench import line_ends

    def rows(kind: str, held: int, n: int = 20) -> list[dict]:
        return [{"kind": kind, "context": "first line", "line": "We drove to the coast.",
                 "ends_here": 0.01 if i < held else 0.8, "ms": 30} for i in range(n)]

    good = line_ends.summarize(rows("finished", 1) + rows("going-on", 15), below=0.1)
    assert line_ends.missed(good) == []
    slow = line_ends.summarize(rows("finished", 2) + rows("going-on", 15), below=0.1)
    assert [m.split(",")[0] for m in line_ends.missed(slow)] == ["finished lines held"]
    asked = line_ends.summarize(rows("going-on", 15) + [{**r, "kind": "asked", "line": "Can you help me?"}
                                                        for r in rows("asked", 2)], below=0.1)
    assert line_ends.missed(asked) == []  # 0.01 is not ten times under 0.1: a question stands
    deaf = line_ends.summarize(rows("finished", 0) + rows("going-on", 9), below=0.1)
    assert [m.split(",")[0] for m in line_ends.missed(deaf)] == ["going-on lines held"]
    no_view = line_ends.summarize([{**r, "ends_here": None} for r in rows("going-on", 20)]
                                  + rows("finished", 0), below=0.1)
    assert line_ends.missed(no_view)  # a model with no view holds nothing: missed


def test_a_missed_first_reply_run_keeps_its_renditions_to_run_again() -> None:
    import shutil

    said = [(bytes(range(200)) * 10, 22050), (b"\x01\x00" * 700, 16000)]
    folder = first_reply.keep(said)
    try:
        assert first_reply.replies(folder) == said
    finally:
        shutil.rmtree(folder)

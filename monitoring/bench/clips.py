"""The project's recorded clips, as the benches play them: the questions, the Beckett
recording's phrases (a real voice), the sentences recorded in two halves, and the
monologue material (``monitoring.bench.monologue``)."""

from __future__ import annotations

from core.audio.segmenter import FRAME_BYTES as VAD_FRAME_BYTES
from core.audio.segmenter import Segmenter, SegmenterConfig, Utterance
from monitoring.bench import monologue
from monitoring.clients.voice_client import frames_of, is_voiced, read_wav_16k_mono
from monitoring.servers.server_process import ROOT

FIXTURES = ROOT / "tests" / "fixtures"


def phrases(pcm: bytes) -> list[bytes]:
    """Cut a recording into its spoken phrases (as a person pausing between them)."""
    segmenter = Segmenter(SegmenterConfig(end_silence_ms=300, pre_roll_ms=150, hangover_ms=150))
    clips = []
    padded = pcm + b"\x00" * (VAD_FRAME_BYTES * 20)
    for i in range(0, len(padded) - VAD_FRAME_BYTES + 1, VAD_FRAME_BYTES):
        for event in segmenter.process(padded[i : i + VAD_FRAME_BYTES]):
            if isinstance(event, Utterance):
                clips.append(event.audio)
    return clips


def playlist() -> list[tuple[str, bytes]]:
    clips = [(p.stem, read_wav_16k_mono(p)) for p in sorted(FIXTURES.glob("question_*.wav"))]
    for n, clip in enumerate(phrases(read_wav_16k_mono(FIXTURES / "beckett.wav")), 1):
        clips.append((f"beckett_{n}", clip))
    return clips


def monologue_material() -> list[monologue.Monologue]:
    return monologue.synthetic_commas() + monologue.neural_commas()


def trimmed(pcm: bytes) -> bytes:
    """The clip without its leading and trailing silence, so a pause is exactly as set."""
    frames = frames_of(pcm)
    voiced = [i for i, f in enumerate(frames) if is_voiced(f)]
    return b"".join(frames[voiced[0] : voiced[-1] + 1]) if voiced else b""


def paused_sentences() -> list[tuple[str, bytes, bytes]]:
    pairs = []
    for first in sorted(FIXTURES.glob("paused_*_a.wav")):
        second = first.with_name(first.name.replace("_a.wav", "_b.wav"))
        pairs.append((first.stem[:-2], trimmed(read_wav_16k_mono(first)),
                      trimmed(read_wav_16k_mono(second))))
    return pairs

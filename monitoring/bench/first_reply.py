"""`python -m monitoring.bench.first_reply`: the echo gate before it knows the echo path.

Offline, frame by frame through the real ``EchoGate`` and ``Segmenter`` (no server: no
timing noise), a session's first reply (Piper, six sentences) is sent at 0.5 s and

- someone talks over it at once, 0.2 or 0.4 s in, on headphones (nothing comes back):
  recorded questions (about the reply's level) and phrases of the Beckett reading (about
  12 dB under it), each as recorded and 6 dB quieter. Figure: how much of the start of
  their voice the gate silenced (first voiced frame to the start of the speech the
  segmenter heard), or "never" when none of it was heard;
- no one talks, and the reply comes back through the echo bench's small room at -10 dB
  (and -6 dB, louder than the product is held to), 40 to 450 ms late. Figure: replies
  whose echo started speech.

Prints one JSON line; exits 1 when a target is missed (no echo at -10 dB starts speech;
recorded questions at their own level heard within 400 ms, p90). Piper's renditions
vary from run to run: a run that misses keeps its own in a temporary folder, and
``--replies FOLDER`` runs the bench again on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np
import webrtcvad

from core.audio.echo_gate import EchoGate
from core.audio.resample import StreamResampler
from core.audio.segmenter import Segmenter, SegmenterConfig, SpeechStarted
from monitoring.bench.clips import playlist
from monitoring.bench.targets import report
from monitoring.clients.echoing_client import EchoPath
from monitoring.clients.voice_client import is_voiced
from monitoring.metrics.series import percentile

FRAME = 480  # samples: the segmenter's 30 ms
REPLY_AT_S = 0.5
SENTENCES = ("Sure, I can help with that.", "The capital of France is Paris.",
             "That is a good question, let me think.", "Hello! How are you today?",
             "Water boils at one hundred degrees Celsius.", "I am not sure, but I think so.")
STARTS_S = (0.2, 0.4)  # the person starts this far into the reply
PERSON_LEVELS_DB = (0.0, -6.0)
ECHO_LEVELS_DB = (-10.0, -6.0)
ECHO_DELAYS_MS = (40, 120, 250, 450)
ROOM_NOISE_RMS = 30.0
QUESTIONS_P90_MS = 400.0
NEVER = None


def replies(kept: Path | None = None) -> list[tuple[bytes, int]]:
    """Piper's renditions of the reply's sentences (they vary from run to run), or the
    ones a failed run kept in ``kept``."""
    if kept is not None:
        return [read_wav(path) for path in sorted(kept.glob("reply-*.wav"))]
    from core.providers.embedded.piper import PiperTTS

    tts = PiperTTS()
    return [(b"".join(tts.synthesize(text)), tts.sample_rate) for text in SENTENCES]


def keep(said: list[tuple[bytes, int]]) -> Path:
    """Save a failed run's renditions, to run it again (``--replies``) and find the cause."""
    folder = Path(tempfile.mkdtemp(prefix="first-reply-missed-"))
    for index, (pcm, rate) in enumerate(said):
        with wave.open(str(folder / f"reply-{index}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm)
    return folder


def read_wav(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path), "rb") as source:
        return source.readframes(source.getnframes()), source.getframerate()


def speech_starts(mic: np.ndarray, reply: bytes, rate: int) -> list[float]:
    """The microphone through a fresh gate (the reply sent at ``REPLY_AT_S``) and the
    segmenter: where each stretch of speech it heard starts, in seconds."""
    gate, segmenter = EchoGate(), Segmenter(SegmenterConfig(neural=False))
    pcm = np.clip(np.rint(mic), -32768, 32767).astype("<i2")
    starts: list[float] = []
    sent = False
    for index in range(0, pcm.size - FRAME + 1, FRAME):
        now_ms = (index + FRAME) / 16
        if not sent and now_ms >= REPLY_AT_S * 1000:
            gate.sent(reply, rate, now_ms)
            sent = True
        for event in segmenter.process(gate.filter(pcm[index : index + FRAME].tobytes(), now_ms)):
            if isinstance(event, SpeechStarted):
                starts.append(event.start_ms / 1000)
    return starts


def first_voiced_s(signal: np.ndarray) -> float | None:
    """The person's first word: a frame as loud as the clients count voiced, and speech
    to webrtcvad."""
    vad = webrtcvad.Vad(2)
    pcm = np.clip(signal, -32768, 32767).astype("<i2")
    for index in range(0, pcm.size - FRAME + 1, FRAME):
        frame = pcm[index : index + FRAME].tobytes()
        if is_voiced(frame) and vad.is_speech(frame, 16000):
            return index / 16000
    return None


def talked_over(reply: tuple[bytes, int], person: np.ndarray, start_s: float, level_db: float,
                rng: np.random.Generator) -> float | None:
    """Milliseconds of the person's voice silenced before speech was heard (None: never)."""
    at_s = REPLY_AT_S + start_s
    mic = rng.normal(0.0, ROOM_NOISE_RMS, int(16000 * (at_s + person.size / 16000 + 0.5)))
    begin = int(at_s * 16000)
    mic[begin : begin + person.size] += person * 10 ** (level_db / 20)
    voiced = first_voiced_s(mic[begin:])
    if voiced is None:
        return NEVER
    heard = [s for s in speech_starts(mic, *reply) if s >= at_s - 0.05]
    return round((heard[0] - at_s - voiced) * 1000, 1) if heard else NEVER


def echoed(reply: tuple[bytes, int], level_db: float, delay_ms: int, rng: np.random.Generator) -> bool:
    """Did the reply's own echo start speech?"""
    pcm, rate = reply
    at16 = StreamResampler(rate, 16000).process(np.frombuffer(pcm, dtype="<i2"), last=True).astype(np.float64)
    echo = np.convolve(at16, EchoPath(level_db, delay_ms=delay_ms).impulse_response())
    mic = rng.normal(0.0, ROOM_NOISE_RMS, int(16000 * REPLY_AT_S) + echo.size + 16000)
    begin = int(16000 * REPLY_AT_S)
    mic[begin : begin + echo.size] += echo
    return bool(speech_starts(mic, pcm, rate))


def _figures(silenced: list[float | None]) -> dict[str, Any]:
    heard = [ms for ms in silenced if ms is not None]
    return {"cases": len(silenced), "never": len(silenced) - len(heard),
            "p50_ms": percentile(heard, 50), "p90_ms": percentile(heard, 90)}


def run(said: list[tuple[bytes, int]]) -> dict[str, Any]:
    rng = np.random.default_rng(5)
    people = [(name.split("_")[0], np.frombuffer(pcm, dtype="<i2").astype(np.float64))
              for name, pcm in playlist()]
    over: dict[str, list[float | None]] = {}
    for reply in said:
        for kind, person in people:
            for start_s in STARTS_S:
                for level_db in PERSON_LEVELS_DB:
                    key = f"{kind} at {level_db:g} dB"
                    over.setdefault(key, []).append(talked_over(reply, person, start_s, level_db, rng))
    echoes = {f"{level_db:g} dB": sum(echoed(reply, level_db, delay, rng) for reply in said
                                      for delay in ECHO_DELAYS_MS)
              for level_db in ECHO_LEVELS_DB}
    return {"bench": "first_reply", "talked_over": {key: _figures(v) for key, v in over.items()},
            "echo_started_speech": echoes, "echo_cases_per_level": len(said) * len(ECHO_DELAYS_MS)}


def missed(summary: dict[str, Any]) -> list[str]:
    misses = []
    if summary["echo_started_speech"].get("-10 dB", 1) > 0:
        misses.append("the first reply's echo at -10 dB started speech")
    questions = summary["talked_over"].get("question at 0 dB", {})
    p90 = questions.get("p90_ms")
    if questions.get("never", 1) > 0 or p90 is None or p90 > QUESTIONS_P90_MS:
        misses.append(f"questions over the first reply heard within {QUESTIONS_P90_MS:g} ms (p90): {p90}")
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--replies", type=Path, help="a folder a missed run kept: its renditions")
    args = parser.parse_args(argv)
    said = replies(args.replies)
    summary = run(said)
    print(json.dumps(summary))
    return report_keeping(missed(summary), said, args.replies)


def report_keeping(misses: list[str], said: list[tuple[bytes, int]], kept: Path | None) -> int:
    """``report``, and a run that misses on fresh renditions keeps them."""
    if misses and kept is None:
        print(f"the replies of this run are kept in {keep(said)} (--replies runs them again)",
              file=sys.stderr)
    return report(misses)


if __name__ == "__main__":
    sys.exit(main())

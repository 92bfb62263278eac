"""Provider faults injected into a live conversation, and how fast it answers again.

One drill: a fault is armed on one provider (raise, hang past the deadline, or
garbage), the person asks a question (spoken for speech recognition, typed for the
others), and asks again if that turn failed. Recovered means a spoken answer arrived.
The recovery time is the server's share: from the end of the question that met the
fault to the error that told the person, plus from the end of the question asked again
to its answer's first audio (the seconds the person spends asking again are not the
server's). Used by tests/integration/test_faults.py and ``make soak``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from monitoring.clients.voice_client import VoiceClient, frames_of, read_wav_16k_mono
from monitoring.soak.fault_injection import FaultMode, FaultyLLM, FaultySTT, FaultyTTS

Role = Literal["stt", "llm", "tts"]
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
TURN_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class DrillResult:
    role: Role
    mode: FaultMode
    recovered: bool
    failed_turns: int  # turns the person saw fail before the answer
    told: bool  # a failed turn came with an error event in words
    recovery_s: float | None
    fired: bool = True  # the injected fault was taken by a provider call (else the drill proves nothing)


def _settled(client: VoiceClient, before: int) -> bool:
    """A turn after ``before`` is done, or an error about a turn was reported."""
    for turn, record in client.turns.items():
        if turn > before and record.done_at is not None:
            return True
    return any(e["type"] == "error" and e.get("_t", 0) > 0 and e.get("turn", 0) > before
               for e in client.events)


@dataclass(frozen=True)
class Asked:
    answered: bool  # with spoken audio
    told: bool  # an error event in words came instead
    waited_s: float  # from the end of the question to the answer's first audio or the error


def ask(client: VoiceClient, role: Role, question: str, audio: Path) -> Asked:
    before = max(client.latest_turn(), max((e.get("turn") or 0 for e in client.events), default=0))
    errors_before = sum(1 for e in client.events if e["type"] == "error")
    if role == "stt":
        client.stream(frames_of(read_wav_16k_mono(audio)), until=lambda: _settled(client, before),
                      max_s=TURN_TIMEOUT_S)
        ended_at = client.stream_last_voiced_at or time.monotonic()
    else:
        ended_at = time.monotonic()
        client.send_json({"type": "text", "text": question})
    client.wait_for(lambda: _settled(client, before), TURN_TIMEOUT_S)
    answers = [r.first_audio_at for turn, r in client.turns.items()
               if turn > before and r.done_at is not None and r.first_audio_at is not None]
    errors = [e for e in client.events[errors_before:] if e["type"] == "error" and e.get("message")]
    settled_at = min(answers) if answers else (errors[0]["_t"] if errors else time.monotonic())
    return Asked(bool(answers), bool(errors), settled_at - ended_at)


def drill(client: VoiceClient, faulty: FaultySTT | FaultyLLM | FaultyTTS, role: Role, mode: FaultMode,
          question: str = "What colour is the sky?", audio: Path = FIXTURES / "question_1.wav",
          attempts: int = 3) -> DrillResult:
    """A hang lasts until its turn has failed: a call that ran far past its deadline and
    then returned. (An embedded model runs one call at a time, so while a call of it is
    stuck the next ones wait in line; one stuck for good is in "What is not covered".)"""
    faulty.inject(mode)
    failed, told, waited_s = 0, False, 0.0
    fired = True
    try:
        for _ in range(attempts):
            asked = ask(client, role, question, audio)
            fired = fired and faulty.disarm() == 0
            waited_s += asked.waited_s
            if asked.answered:
                return DrillResult(role, mode, True, failed, told, waited_s, fired)
            failed += 1
            told = told or asked.told
            faulty.release()
        return DrillResult(role, mode, False, failed, told, None, fired)
    finally:
        faulty.release()

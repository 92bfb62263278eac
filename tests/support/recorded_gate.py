"""An echo gate's calls recorded in a server and kept as a fixture (``monitoring.bench.
gate_recording``, ``keep``), replayed through a gate and the segmenter."""

from __future__ import annotations

from pathlib import Path

from core.audio.echo_gate import EchoGate
from monitoring.bench.gate_recording import load_npz, replay

FIXTURES = Path(__file__).parents[1] / "fixtures"


def speech_starts(fixture: str, gate: EchoGate, folder: Path = FIXTURES) -> list[float]:
    """Where speech started (stream ms) with the kept calls through ``gate``."""
    _, starts, _ = replay(load_npz(folder / fixture), gate)
    return [start_ms for start_ms, _ in starts]

"""The echo gate's recorder: what a gate saw is replayed offline, frame for frame."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.echo_gate import EchoGate
from monitoring.bench import gate_recording


@pytest.fixture
def restored():
    saved = EchoGate.filter, EchoGate.sent, EchoGate.stopped, EchoGate.reset
    yield
    EchoGate.filter, EchoGate.sent, EchoGate.stopped, EchoGate.reset = saved


def test_a_recorded_gate_replays_to_the_same_frames(tmp_path, restored) -> None:
    recorder = gate_recording.GateRecorder(str(tmp_path / "gates-"))
    recorder.install()
    rng = np.random.default_rng(3)
    reply = (np.sin(np.arange(22050) / 7.0) * 8000).astype("<i2")
    gate = EchoGate()
    passed = []
    for index in range(150):  # 4.5 s: the reply sent at 0.6 s, its echo 120 ms later at -10 dB
        now_ms = (index + 1) * 30.0
        if index == 20:
            gate.sent(reply.tobytes(), 22050, now_ms)
        mic = rng.normal(0, 30, 480)
        if 24 <= index < 57:
            mic += np.sin(np.arange(480) / 7.0 * 22050 / 16000) * 8000 * 10 ** (-10 / 20)
        frame = np.clip(mic, -32768, 32767).astype("<i2").tobytes()
        passed.append(gate.filter(frame, now_ms) == frame)
    gate.stopped(4500.0)
    recorder.dump()
    recorder.close()

    (calls,) = gate_recording.load(str(tmp_path / "gates-")).values()
    assert sum(call[0] == "f" for call in calls) == 150
    assert [call[3] for call in calls if call[0] == "f"] == passed
    assert not all(passed)  # (the echo was silenced: something to compare)
    _, _, differ = gate_recording.replay(calls)
    assert differ == 0

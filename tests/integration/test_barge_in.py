"""Talking over the assistant, twenty times in a row, with the real models."""

from __future__ import annotations

import pytest

from monitoring.bench.clips import playlist
from monitoring.bench.conversation import Bench
from monitoring.clients.voice_client import VoiceClient

pytestmark = pytest.mark.models


def test_twenty_barge_ins_leave_no_audio_of_a_cancelled_turn(live_server) -> None:
    client = VoiceClient(live_server.ws_url)
    try:
        client.start()
        results = Bench(client, timeout_s=20, verbose=False).barge_ins(playlist(), 20)
    finally:
        client.close()
    interrupted = [r for r in results if r["ok"]]
    assert len(interrupted) == 20, results
    assert client.audio_after_clear == 0
    for result in interrupted:
        turn = client.turns[result["turn"]]
        assert turn.cleared_at is not None and turn.resumes == 0
        assert result["barge_in_ms"] < 1000

"""A phone call with the real models, from a scripted Twilio that follows the Media Streams
protocol message for message (monitoring/clients/twilio_client.py): greeting, a question and its
answer, talking over the next answer, hanging up; then what the server kept of it."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from contextlib import closing

import numpy as np
import pytest

from core.phone.routes import MEDIA_PATH
from monitoring.clients.twilio_client import (
    TwilioCall,
    incoming_call,
    line_noise,
    new_call_sid,
    phone_frames,
    stream_instructions,
)
from monitoring.clients.voice_client import read_wav_16k_mono
from tests.conftest import ADMIN_TOKEN, FIXTURES

pytestmark = pytest.mark.models

QUESTION = FIXTURES / "question_1.wav"
INTERRUPTION = FIXTURES / "question_3.wav"
REPLY_HEARD_S = 0.8  # how much of the answer the caller hears before talking over it
PAUSE_FRAMES = 25  # 0.5 s between the greeting's end and the question
NO_AUDIO_AFTER_CLEAR_S = 0.5  # the next turn's audio comes 0.65 s after the caller stops, at least


def admin_metrics(server) -> dict:
    request = urllib.request.Request(server.http_url + "/metrics.json",
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def mark_turn(name: str) -> int:
    return int(name.split(":", 1)[0])


def test_a_call_is_greeted_answered_interrupted_and_stored(live_server) -> None:
    rng = np.random.default_rng(7)
    call_sid = new_call_sid()
    webhook = incoming_call(live_server.http_url, call_sid)
    assert webhook.status_code == 200 and webhook.headers["Content-Type"].startswith("text/xml")
    instructions = stream_instructions(webhook.text)
    assert instructions.url.endswith(MEDIA_PATH) and instructions.parameters.get("call_token")
    call = TwilioCall(instructions, call_sid, url=live_server.http_url.replace("http", "ws", 1) + MEDIA_PATH)
    try:
        call.begin()
        # The greeting: spoken as soon as the line is quiet, played to its end mark.
        call.stream([], until=call.reply_played(0), max_s=20)
        assert call.last_played_turn() == 1, "no greeting"
        assert call.first_voiced_media_since(0.0) is not None
        call.stream([line_noise(rng) for _ in range(PAUSE_FRAMES)])  # the caller takes a breath

        # A question, answered out loud.
        call.stream(phone_frames(read_wav_16k_mono(QUESTION)),
                    until=lambda: call.first_voiced_media_since(call.log.last_voiced_sent_at) is not None,
                    max_s=20)
        asked_at = call.log.last_voiced_sent_at
        answered_at = call.first_voiced_media_since(asked_at)
        assert answered_at is not None, "no answer"
        # Its first mark follows its first 100 ms of audio, paced: a moment after the sound.
        call.stream([], until=lambda: bool(call.received("mark", since=answered_at - 1.0)), max_s=5)
        reply_turn = max(mark_turn(r.name) for r in call.received("mark", since=answered_at - 1.0))

        # Talking over the answer once some of it has played: Twilio is told to clear.
        call.stream([], until=lambda: time.monotonic() - answered_at >= REPLY_HEARD_S, max_s=5)
        call.stream(phone_frames(read_wav_16k_mono(INTERRUPTION)),
                    until=lambda: bool(call.received("clear", since=answered_at)), max_s=10)
        clears = call.received("clear", since=answered_at)
        assert clears, "talking over the answer did not clear it"
        cleared_at = clears[0].at
        # The next answer, to the interruption, plays to its end.
        # (A pause inside the interruption may split it in two turns on a busy machine: the
        # later one is then the answer heard; turn-taking on pauses is issue 17's work.)
        call.stream([], until=call.reply_played(reply_turn), max_s=30)
        answer_turn = call.last_played_turn()
        assert answer_turn > reply_turn, "the interruption was not answered"
    finally:
        call.stop()
        call.close()

    # Nothing of the interrupted answer after the clear: the first mark after it belongs
    # to the next turn, and no audio at all comes until that turn can have begun (its
    # answer, or its thinking cue on a slow machine, follows the interruption's end by
    # the reply gap at least; audio of the old turn would come at once).
    after = [r for r in call.log.received if r.at > cleared_at]
    first_mark = next(i for i, r in enumerate(after) if r.event == "mark")
    assert mark_turn(after[first_mark].name) > reply_turn
    assert not [r for r in after if r.event == "media" and r.at - cleared_at < NO_AUDIO_AFTER_CLEAR_S]

    # ``stop`` released the session; the call is stored as a phone call, the interrupted
    # answer cut at what was played.
    deadline = time.monotonic() + 5
    while admin_metrics(live_server)["active_sessions"] and time.monotonic() < deadline:
        time.sleep(0.05)  # the server ends the session on its own thread after ``stop``
    metrics = admin_metrics(live_server)
    assert metrics["active_sessions"] == 0
    assert metrics["counters"]["phone_calls"] >= 1
    phone_conversations = [c for c in metrics["conversations"] if c["channel"] == "phone"]
    assert phone_conversations
    session_id = phone_conversations[0]["session_id"]
    with closing(sqlite3.connect(live_server.env["VOICECHAT_DB_PATH"])) as db:
        rows = db.execute("SELECT turn, role, cut, channel FROM turns WHERE session_id = ? "
                          "ORDER BY turn, role", (session_id,)).fetchall()
    assert {channel for *_, channel in rows} == {"phone"}
    assert (1, "assistant", 0, "phone") in rows  # the greeting
    assert (reply_turn, "assistant", 1, "phone") in rows, rows  # cut by the interruption
    assert (reply_turn + 1, "user", 0, "phone") in rows
    assert (answer_turn, "user", 0, "phone") in rows and (answer_turn, "assistant", 0, "phone") in rows

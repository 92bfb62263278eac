"""A speech-to-speech API answering through /ws/voice: the real app with the embedded
models taking the turns (Whisper on recorded speech), a scripted stand-in of each API
answering, barge-in cancelling and truncating, and the stand-in's misbehaviours."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from core.providers.base import Providers
from core.settings import Settings
from monitoring.clients.twilio_client import phone_frames
from monitoring.clients.voice_client import VoiceClient, frames_of, read_wav_16k_mono
from monitoring.servers.inprocess_server import InProcessServer
from monitoring.servers.speech.faults import Fault
from monitoring.servers.speech.standin import SpeechStandIn
from monitoring.soak.fault_drill import FIXTURES
from tests.support.phone_server import webhook_call

pytestmark = pytest.mark.models
APIS = ("openai-realtime", "gemini-live")


@pytest.fixture(params=APIS)
def stand_in(request: pytest.FixtureRequest) -> Iterator[SpeechStandIn]:
    with SpeechStandIn(request.param, pace=4.0, reply_s=2.0) as api:
        yield api


@pytest.fixture
def server(stand_in: SpeechStandIn, real_providers: Providers) -> Iterator[InProcessServer]:
    settings = Settings().replace(greeting_after_ms=0, thinking_cue_ms=0, db_path="",
                                  client_speech_urls=stand_in.url, speech_response_timeout_s=1.5)
    with InProcessServer(settings, real_providers) as running:
        yield running


def choose(client: VoiceClient, stand_in: SpeechStandIn) -> None:
    client.send_json({"type": "settings", "speech_provider": stand_in.dialect,
                      "speech_base_url": stand_in.url, "speech_api_key": "sk-page-secret"})
    assert client.wait_for(lambda: client.event_seen("settings_applied"))


def story(client: VoiceClient) -> list[tuple[object, ...]]:
    """The conversation's events, short (for a failure's message)."""
    return [(e["type"], e.get("turn"), e.get("text") or e.get("state") or e.get("reason") or e.get("code"))
            for e in client.events if e["type"] not in ("level", "pong")]


def answered_after(client: VoiceClient, before: int) -> bool:
    return any(turn > before and record.done_at is not None for turn, record in client.turns.items())


def test_a_spoken_question_is_answered_by_the_api_with_its_audio_and_words(server, stand_in) -> None:
    client = VoiceClient(server.ws_url)
    try:
        client.start()
        choose(client, stand_in)
        applied = next(e for e in client.events if e["type"] == "settings_applied")
        assert applied["providers"]["speech"] == stand_in.dialect
        assert applied["settings"]["speech_api_key_set"] is True
        assert "sk-page-secret" not in str(client.events)
        question = read_wav_16k_mono(FIXTURES / "question_1.wav")
        client.stream(frames_of(question), until=lambda: answered_after(client, 0), max_s=30)
        turn = client.turns[client.latest_turn()]
        assert turn.done_at is not None
        words = [e["text"] for e in client.events if e["type"] == "transcript"]
        assert len(words) == 2 and words[0] != words[1]  # the app's recognizer took the turn ...
        assert words[1].endswith("ms of speech")  # ... the API's words replaced its own
        assert "stand-in" in turn.reply_text  # the API's transcript of what it said
        assert turn.sample_rate == 24_000 and turn.audio_bytes >= 24_000 * 2 * 1.9, str(story(client))
        # the turn's audio went to the API at its rate (24 kHz for OpenAI, 16 kHz for Gemini)
        rate = 24_000 if stand_in.dialect == "openai-realtime" else 16_000
        sent_s = stand_in.record.heard_bytes[-1] / 2 / rate
        assert abs(sent_s - len(question) / 2 / 16_000) < 1.0
    finally:
        client.close()


def test_talking_over_the_answer_cuts_it_where_it_was_heard(server, stand_in) -> None:
    """The answer streams in real time here, so it is still coming when it is cancelled,
    and the stand-in goes on sending some of it after the cancel: none of that is heard."""
    stand_in.reply_s, stand_in.pace = 8.0, 1.0
    stand_in.plan(Fault.LATE_DELTAS)
    client = VoiceClient(server.ws_url)
    try:
        client.start()
        choose(client, stand_in)
        client.send_json({"type": "text", "text": "Tell me a long story."})
        assert client.wait_for(lambda: client.turns.get(1) is not None
                               and client.turns[1].first_audio_at is not None)
        interruption = read_wav_16k_mono(FIXTURES / "question_2.wav")
        client.stream(frames_of(interruption)[:40], until=lambda: client.turns[1].cleared_at is not None,
                      max_s=10)
        assert client.turns[1].cleared_at is not None
        # the room goes quiet: the interruption is a turn of its own, and the old answer is over
        client.stream([], until=lambda: client.latest_turn() > 1, max_s=10)
        assert client.latest_turn() > 1, str(story(client))
        if stand_in.dialect == "openai-realtime":  # the API keeps only what was heard
            assert client.wait_for(lambda: bool(stand_in.record.truncations), 5)
            _item, heard_ms = stand_in.record.truncations[0]
            assert 0 < heard_ms < 8000
        late = lambda: server.monitor.snapshot()["counters"].get("speech:late_deltas", 0)  # noqa: E731
        assert client.wait_for(lambda: late() >= 1, 5), str((stand_in.record, story(client)))  # dropped
        assert client.audio_after_clear == 0
    finally:
        client.close()


# What each misbehaviour shows on the admin page (``speech:<name>`` counters), where it
# shows at all (a refused or dropped answer is told as a fallback or a reconnect).
COUNTED = {Fault.LATE_DELTAS: None, Fault.UNKNOWN_EVENT: "ignored", Fault.MALFORMED: "malformed",
           Fault.DROP: "reconnects", Fault.STALL: "stalls", Fault.RATE_LIMIT: "fallbacks"}


@pytest.mark.parametrize("fault", list(Fault))
def test_every_misbehaviour_leaves_the_person_answered(server, stand_in, fault: Fault) -> None:
    client = VoiceClient(server.ws_url)
    try:
        client.start()
        choose(client, stand_in)
        stand_in.plan(fault)
        client.send_json({"type": "text", "text": "What is the weather like?"})
        settled = client.wait_for(lambda: answered_after(client, 0) or client.event_seen("error"), 10)
        assert settled, f"silent after {fault}"
        client.send_json({"type": "text", "text": "And tomorrow?"})
        assert client.wait_for(lambda: answered_after(client, 1), 10), f"no answer after {fault}"
        assert client.audio_after_clear == 0
        counter = COUNTED[fault]
        if counter is not None:
            speech = lambda: server.monitor.snapshot()["counters"].get(f"speech:{counter}", 0)  # noqa: E731
            assert client.wait_for(lambda: speech() >= 1, 5), server.monitor.snapshot()["counters"]
    finally:
        client.close()


def test_a_phone_call_is_answered_by_the_servers_own_speech_api(real_providers: Providers) -> None:
    """The server's default: every call's turns go to its API (8 kHz µ-law in, the API's
    24 kHz out, resampled both ways); talking over an answer clears the line and truncates
    the answer at what the caller heard (from the call's marks)."""
    with SpeechStandIn("openai-realtime", reply_s=5.0) as api:
        settings = Settings().replace(
            greeting_after_ms=0, thinking_cue_ms=0, db_path="", phone_enabled=True, phone_greeting_after_ms=0,
            speech_provider="openai-realtime", speech_base_url=api.url, speech_api_key="sk-server")
        with InProcessServer(settings, real_providers) as server:
            call = webhook_call(server)
            try:
                call.begin()
                call.stream([], max_s=0.3)  # (the line opens)
                call.stream(phone_frames(read_wav_16k_mono(FIXTURES / "question_1.wav")),
                            until=lambda: call.first_voiced_media_since(call.log.last_voiced_sent_at or 0.0)
                            is not None, max_s=20)
                answered_at = call.first_voiced_media_since(call.log.last_voiced_sent_at or 0.0)
                assert answered_at is not None, "no answer"
                assert api.record.received["response.create"] == 1
                call.stream([], until=lambda: time.monotonic() - answered_at >= 1.0, max_s=5)
                call.stream(phone_frames(read_wav_16k_mono(FIXTURES / "question_3.wav")),
                            until=lambda: bool(call.received("clear", since=answered_at)), max_s=10)
                assert call.received("clear", since=answered_at), "talking over the answer did not clear it"
                call.stream([], until=lambda: bool(api.record.truncations), max_s=10)
            finally:
                call.stop()
                call.close()
        assert api.record.truncations, "the cut answer was not truncated"
        _item, heard_ms = api.record.truncations[0]
        assert 500 <= heard_ms < 5000  # about the second the caller heard, not the 5 s sent

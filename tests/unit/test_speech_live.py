"""One session's conversation with a speech-to-speech API over a WebSocket
(``core.providers.speech.live``), against the in-process stand-in of each API: turns
answered, the person's audio sent at the API's rate, every misbehaviour the stand-in
knows survived, reconnecting after a drop with the conversation so far, and threads
joined on close. Waits poll a condition with a deadline; nothing sleeps in place of one."""

from __future__ import annotations

from core.providers.base import ProviderError
from core.providers.speech.base import SpeechAudio, SpeechDone, SpeechEvent, SpeechFailed, SpeechText
from monitoring.servers.speech.faults import Fault
from monitoring.servers.speech.standin import SpeechStandIn
from tests.support import speech_talk
from tests.support.speech_talk import (
    REPLY_BYTES,
    TIMINGS,
    Talk,
    answered,
    audio_of,
    speech_16k,
    wait_until,
)

api, talk = speech_talk.api, speech_talk.talk  # the fixtures: each API's stand-in, conversations on it

# ----- answers ------------------------------------------------------------------------------------
def test_a_turn_is_answered_with_audio_and_words_then_done(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    events = answered(conversation, heard, 1)
    assert isinstance(events[-1], SpeechDone) and len([e for e in events if isinstance(e, SpeechDone)]) == 1
    pieces = [e for e in events[:-1] if isinstance(e, SpeechAudio)]
    assert len(pieces) >= 2 and all(p.sample_rate == 24_000 for p in pieces)
    assert isinstance(events[0], SpeechAudio) and len(audio_of(events)) == REPLY_BYTES
    words = "".join(e.text for e in events if isinstance(e, SpeechText))
    assert "answer 1 from the stand-in" in words and "weather" in words
    assert all(isinstance(e, SpeechAudio | SpeechText) for e in events[:-1])
    state = conversation.state()
    counters = (state.reconnects, state.malformed, state.late_deltas, state.stalls, state.errors)
    assert state.state == "ready" and counters == (0, 0, 0, 0, 0)
    assert answered(conversation, heard, 2, "And tomorrow?")[-1] == SpeechDone(2)  # the socket stays open
    assert api.record.connections == 1


def test_the_persons_audio_is_sent_at_the_apis_rate(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    spoken = speech_16k(1.0)  # 32,000 bytes at 16 kHz
    assert answered(conversation, heard, 1, "", spoken)[-1] == SpeechDone(1)
    received = api.record.heard_bytes[-1]
    if api.dialect == "openai-realtime":  # resampled to 24 kHz
        assert abs(received - 1.5 * len(spoken)) <= 0.01 * len(spoken)
    else:  # 16 kHz, as it was
        assert received == len(spoken)


# ----- misbehaviours ------------------------------------------------------------------------------
def test_late_audio_of_a_cancelled_answer_is_dropped(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    api.reply_s = 2.0  # (room for the cancel to arrive mid-answer)
    api.plan(Fault.LATE_DELTAS)
    cut_after: list[int] = []

    def cancel_at_first_audio(event: SpeechEvent) -> None:
        if isinstance(event, SpeechAudio) and event.turn == 1 and not cut_after:
            cut_after.append(len(heard.timed()))
            conversation.cancel(1, None)  # (from the listener, as a session's barge-in may)

    heard.hook = cancel_at_first_audio
    conversation.respond(1, None, "Tell me a long story.")
    assert wait_until(lambda: conversation.state().late_deltas >= 5), conversation.state()
    if api.dialect == "openai-realtime":  # told to stop, it went on for a while
        assert wait_until(lambda: api.record.late_sent >= 5)
        assert len(api.record.cancels) == 1
    after_cancel = [e for _, e in heard.timed()[cut_after[0]:] if e.turn == 1]
    assert after_cancel == []  # no audio, no words, no end
    assert len(heard.events(1)) == 1
    api.reply_s = 1.0
    assert answered(conversation, heard, 2, "Never mind.")[-1] == SpeechDone(2)
    assert not [e for _, e in heard.timed()[cut_after[0]:] if e.turn == 1]


def test_an_event_of_an_unknown_type_is_counted_and_the_answer_completes(api: SpeechStandIn,
                                                                         talk: Talk) -> None:
    conversation, heard = talk()
    before = conversation.state().ignored
    assert answered(conversation, heard, 1)[-1] == SpeechDone(1)
    usual = conversation.state().ignored - before  # what a plain turn brings that the app does not use
    api.plan(Fault.UNKNOWN_EVENT)
    events = answered(conversation, heard, 2)
    assert events[-1] == SpeechDone(2) and len(audio_of(events)) == REPLY_BYTES
    assert conversation.state().ignored - before == 2 * usual + 1
    assert conversation.state().malformed == 0


def test_malformed_messages_are_counted_and_the_answer_completes(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    api.plan(Fault.MALFORMED)
    events = answered(conversation, heard, 1)
    assert events[-1] == SpeechDone(1) and len(audio_of(events)) == REPLY_BYTES
    state = conversation.state()
    assert state.malformed == 2 and state.state == "ready"  # not JSON; audio it could not read
    assert answered(conversation, heard, 2)[-1] == SpeechDone(2)


def test_a_stalled_answer_fails_about_the_timeout_after_it_went_quiet(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    api.plan(Fault.STALL)
    conversation.respond(1, None, "Hello?")
    assert wait_until(lambda: heard.ended(1))
    timed = [(at, e) for at, e in heard.timed() if e.turn == 1]
    failed_at, failed = timed[-1]
    assert isinstance(failed, SpeechFailed) and failed.spoke and failed.retryable
    last_audio_at = max(at for at, e in timed if isinstance(e, SpeechAudio))
    quiet = failed_at - last_audio_at
    assert TIMINGS.response_timeout_s - 0.05 <= quiet <= TIMINGS.response_timeout_s + 1.0, quiet
    assert conversation.state().stalls == 1
    assert answered(conversation, heard, 2, "Are you there?")[-1] == SpeechDone(2)
    assert [e for e in heard.events(1) if isinstance(e, SpeechFailed)] == [failed]  # failed once
    assert conversation.state().stalls == 1


def test_a_rate_limited_turn_fails_without_audio_and_the_next_is_answered(api: SpeechStandIn,
                                                                          talk: Talk) -> None:
    conversation, heard = talk()
    api.plan(Fault.RATE_LIMIT)
    events = answered(conversation, heard, 1)
    assert len(events) == 1 and isinstance(events[0], SpeechFailed)
    assert events[0].retryable and not events[0].spoke
    if api.dialect == "openai-realtime":  # an error event, the socket stays
        assert "rate_limit_exceeded" in events[0].message and conversation.state().errors == 1
        assert conversation.state().reconnects == 0
    else:  # the Live API closes the socket (1011)
        assert "RESOURCE_EXHAUSTED" in events[0].message and conversation.state().reconnects == 1
        assert wait_until(lambda: conversation.state().state == "ready")
    assert answered(conversation, heard, 2)[-1] == SpeechDone(2)


def test_a_dropped_socket_fails_the_turn_and_is_made_again(api: SpeechStandIn, talk: Talk) -> None:
    conversation, heard = talk()
    assert answered(conversation, heard, 1)[-1] == SpeechDone(1)
    seen: list[str] = []
    refusals: list[ProviderError] = []

    def at_the_failure(event: SpeechEvent) -> None:
        if isinstance(event, SpeechFailed):
            seen.append(conversation.state().state)
            try:
                conversation.respond(99, None, "while it reconnects")
            except ProviderError as exc:
                refusals.append(exc)

    heard.hook = at_the_failure
    api.plan(Fault.DROP)
    events = answered(conversation, heard, 2)
    failed = events[-1]
    assert isinstance(failed, SpeechFailed) and failed.spoke and failed.retryable
    assert "connection lost" in failed.message
    assert seen == ["reconnecting"]
    assert len(refusals) == 1 and refusals[0].retryable and "reconnecting" in str(refusals[0])
    assert wait_until(lambda: conversation.state().state == "ready")
    assert conversation.state().reconnects == 1 and api.record.connections == 2
    heard.hook = None
    assert answered(conversation, heard, 3)[-1] == SpeechDone(3)
    assert heard.events(99) == []  # the refused turn was never asked
    assert [e for e in heard.events(2) if isinstance(e, SpeechFailed)] == [failed]

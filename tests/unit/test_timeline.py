"""The turn engine on a virtual clock: scripted speech, fake providers, exact timings."""

from __future__ import annotations

from core.conversation.config import EngineConfig
from core.conversation.events import AudioKind
from tests.support.fakes import FakeLLM
from tests.support.timeline import Delays, Timeline


def test_a_finished_question_is_answered_as_soon_as_its_transcript_is_known() -> None:
    t = Timeline(delays=Delays(stt_ms=250, llm_first_token_ms=100, llm_token_ms=25, tts_ms=80))
    t.say(0.51, 2.01, "What is the capital of France?").run(6.0)
    assert t.first("speech_started").at == 600  # three voiced 30 ms frames
    # The pause is noticed 60 ms after the speech (2.07 s); the transcript is ready
    # 250 ms later and sounds finished, so the turn is committed at once.
    assert t.first("speech_stopped").at == 2320
    assert t.first("transcript", turn=1).event["text"] == "What is the capital of France?"
    # The first sentence, "Paris is the capital.", is whole with the 4th token; its
    # audio is ready at 2575 and waits for the breath gap (650 ms after the speech),
    # going out on the next 30 ms frame.
    assert t.first("reply_text", turn=1).at == 2320 + 100 + 3 * 25
    first_audio = t.audio(turn=1)[0].at
    assert first_audio == 2670
    assert first_audio - 2010 == 660  # voice to voice
    # Back to listening once the second of audio has been played.
    assert t.states() == ["listening", "thinking", "speaking", "listening"]
    assert t.events("state")[-1].at == first_audio + 1000
    assert len(t.events("reply_done")) == 1


def test_trailing_and_waits_for_the_rest_of_the_sentence() -> None:
    t = Timeline()
    t.say(0.5, 1.8, "I want to book a table and").say(2.5, 3.4, "for two people tonight.").run(8.0)
    transcripts = [r.event["text"] for r in t.events("transcript")]
    assert transcripts == ["I want to book a table and for two people tonight."]
    assert len(t.events("reply_done")) == 1
    assert t.first("speech_stopped").at > 3400


def test_a_pause_without_a_hint_waits_the_default_time() -> None:
    config = EngineConfig(commit_after_ms=450)
    t = Timeline(config=config)
    t.say(0.5, 1.5, "tell me about the weather").run(5.0)
    assert t.first("speech_stopped").at == 1500 + 450


def test_going_on_after_a_false_cut_off_replaces_the_answer_in_progress() -> None:
    t = Timeline(config=EngineConfig(commit_after_ms=300))
    t.say(0.5, 1.5, "tell me about the weather").say(1.95, 2.8, "in Paris tomorrow.").run(8.0)
    dones = t.events("reply_done")
    assert len(dones) == 1
    turn = dones[0].event["turn"]
    assert t.first("transcript", turn=turn).event["text"] == "tell me about the weather in Paris tomorrow."
    assert t.first("clear", turn=1).event["reason"] == "superseded"
    assert not t.audio(turn=1)  # the cut-off answer never made a sound


def test_barge_in_clears_at_once_and_nothing_of_the_old_turn_follows() -> None:
    llm = FakeLLM("Here is a long story. It goes on and on. It has a dragon in it.")
    t = Timeline(llm=llm)
    t.say(0.5, 1.5, "Tell me a story.").say(2.52, 3.5, "Stop, what time is it?").run(9.0)
    clear = t.first("clear", turn=1)
    assert clear.event["reason"] == "barge_in"
    assert clear.at == 2520 + 90  # three voiced frames over the reply
    assert not [r for r in t.audio(turn=1) if r.at > clear.at]
    assert t.first("transcript", turn=2).event["text"] == "Stop, what time is it?"
    assert t.events("reply_done", turn=2)
    assert not t.events("resume")


def test_a_long_interruption_is_answered_even_when_its_words_are_slow_to_come() -> None:
    # 2.4 s of talking over the reply, and a recognizer that needs 900 ms (a busy server, a
    # cloud service): the false-interruption timer must wait for the words, not resume.
    llm = FakeLLM("Here is a long story. It goes on and on. It has a dragon in it.")
    t = Timeline(llm=llm, delays=Delays(stt_ms=900))
    t.say(0.5, 1.5, "Tell me a story.").say(3.6, 6.0, "No wait, tell me about the weather instead.")
    t.run(14.0)
    assert t.first("clear", turn=1).event["reason"] == "barge_in"
    assert not t.events("resume")
    assert t.first("transcript", turn=2).event["text"] == "No wait, tell me about the weather instead."
    assert t.events("reply_done", turn=2)


def test_a_cough_pauses_the_reply_and_it_resumes_from_the_cut_sentence() -> None:
    llm = FakeLLM("Here is a long story. It goes on and on. It has a dragon in it.")
    t = Timeline(llm=llm)
    t.say(0.5, 1.5, "Tell me a story.").cough(3.0, ms=150).run(12.0)
    clear = t.first("clear", turn=1)
    resume = t.first("resume", turn=1)
    assert clear.at < resume.at
    assert resume.at - clear.at < 400 + t.delays.stt_ms  # once the recognizer found no words in it
    assert not [r for r in t.audio(turn=1) if clear.at < r.at < resume.at]
    assert [r.event["turn"] for r in t.events("reply_done")] == [1]
    assert t.states()[-1] == "listening"


def test_the_same_words_again_soon_are_not_answered_twice() -> None:
    t = Timeline()
    t.say(0.5, 1.5, "What is the capital of France?").say(6.0, 7.0, "What is the capital of France?")
    t.run(12.0)
    assert len(t.events("reply_done")) == 1
    assert t.first("ignored").event["reason"] == "repeated"


def test_questions_that_differ_only_in_a_number_are_both_answered() -> None:
    t = Timeline()
    t.say(0.5, 1.5, "What is 2 plus 2?").say(6.0, 7.0, "What is 3 plus 3?")
    t.run(12.0)
    assert len(t.events("reply_done")) == 2 and not t.events("ignored")


def test_nothing_understood_gets_a_clarifying_question() -> None:
    t = Timeline()
    t.say(0.5, 1.5, "").run(5.0)
    done = t.first("reply_done", turn=1)
    assert "didn't catch" in done.event["text"]
    assert t.audio(turn=1)


def test_a_slow_answer_gets_a_thinking_cue_first() -> None:
    cue = (b"\x00\x01" * 4000, 16_000)
    t = Timeline(config=EngineConfig(thinking_cue_ms=800, cue_audio=cue),
                 delays=Delays(llm_first_token_ms=1500))
    t.say(0.5, 1.5, "What is the meaning of life?").run(8.0)
    committed = t.first("speech_stopped").at
    assert t.first("thinking", turn=1).at == committed + 800 or (
        committed + 800 <= t.first("thinking", turn=1).at < committed + 800 + 30)
    cue_audio = t.audio(turn=1, kind=AudioKind.CUE)
    assert len(cue_audio) == 1 and cue_audio[0].at < t.audio(turn=1)[0].at


def test_a_quick_answer_gets_no_cue() -> None:
    cue = (b"\x00\x01" * 4000, 16_000)
    t = Timeline(config=EngineConfig(thinking_cue_ms=800, cue_audio=cue))
    t.say(0.5, 1.5, "What is the capital of France?").run(6.0)
    assert not t.events("thinking") and not t.audio(kind=AudioKind.CUE)


def test_silence_at_the_start_gets_a_greeting() -> None:
    t = Timeline(config=EngineConfig(greeting_after_ms=3000))
    t.run(8.0)
    greeting = t.first("reply_text", turn=1)
    assert 3000 <= greeting.at < 3040 and "Sam" in greeting.event["text"]
    assert t.audio(turn=1)


def test_the_previous_reply_is_passed_on_so_it_is_not_repeated() -> None:
    t = Timeline()
    t.say(0.5, 1.5, "Ever tried.").say(5.0, 6.0, "Ever failed.").run(10.0)
    assert [g.avoid for g in t.generate_calls] == [None, "Paris is the capital. It is lovely."]


def test_speech_right_after_the_reply_ends_is_taken_as_its_echo() -> None:
    t = Timeline(config=EngineConfig(refractory_ms=300))
    t.say(0.5, 1.5, "Tell me a joke.").run(4.0)
    listening = [r.at for r in t.events("state", state="listening")][-1]
    t2 = Timeline(config=EngineConfig(refractory_ms=300))
    t2.say(0.5, 1.5, "Tell me a joke.").say(listening / 1000 + 0.05, listening / 1000 + 0.6, "ha ha")
    t2.run(8.0)
    assert len(t2.events("reply_done")) == 1


def test_replies_are_capped_at_three_sentences() -> None:
    llm = FakeLLM("One. Two. Three. Four. Five.")
    t = Timeline(llm=llm)
    t.say(0.5, 1.5, "Count for me.").run(6.0)
    assert t.first("reply_done").event["text"] == "One. Two. Three."


def test_a_click_while_thinking_does_not_lose_the_answer() -> None:
    t = Timeline(delays=Delays(llm_first_token_ms=400))
    t.say(0.51, 2.01, "What time is it in Tokyo?").cough(2.52, ms=120).run(7.0)
    assert [r.event["turn"] for r in t.events("reply_done")] == [1]
    assert t.audio(turn=1)
    assert not t.events("clear")  # nothing had been heard, so nothing to clear


def test_words_added_before_the_answer_is_heard_are_answered_together() -> None:
    t = Timeline(delays=Delays(llm_first_token_ms=600))
    t.say(0.51, 1.5, "What is the capital of France?").say(2.1, 3.0, "And of Spain?").run(8.0)
    dones = t.events("reply_done")
    assert len(dones) == 1
    turn = dones[0].event["turn"]
    assert t.first("transcript", turn=turn).event["text"] == "What is the capital of France? And of Spain?"
    assert t.first("clear", turn=1).event["reason"] == "superseded"
    assert not t.audio(turn=1)


def test_a_statement_is_not_answered_into_a_breath_pause() -> None:
    fast = Delays(stt_ms=150, llm_first_token_ms=50, llm_token_ms=10, tts_ms=40)
    t = Timeline(delays=fast, llm=FakeLLM("Sure. Here it is."))
    t.say(0.51, 1.5, "Tell me about the weather.").say(2.1, 2.8, "in Paris tomorrow.").run(7.0)
    assert not t.audio(turn=1)  # ready early, but held back: the pause was a breath
    dones = t.events("reply_done")
    assert len(dones) == 1
    turn = dones[0].event["turn"]
    assert t.first("transcript", turn=turn).event["text"] == "Tell me about the weather. in Paris tomorrow."


def test_a_statement_is_answered_after_the_minimum_gap() -> None:
    fast = Delays(stt_ms=150, llm_first_token_ms=50, llm_token_ms=10, tts_ms=40)
    t = Timeline(config=EngineConfig(min_reply_gap_ms=650), delays=fast, llm=FakeLLM("Sure. Here."))
    t.say(0.51, 1.5, "Tell me about the weather.").run(5.0)
    first_audio = t.audio(turn=1)[0].at
    assert 1500 + 650 <= first_audio < 1500 + 650 + 30  # released on the next tick


def test_a_one_word_answer_is_answered() -> None:
    """A "yes" lasts 0.2-0.3 s, under the length that is surely speech: its words make it a turn."""
    t = Timeline(llm=FakeLLM("Great, let us go on."))
    t.say(0.5, 0.74, "Yes.").run(5.0)
    assert t.first("transcript", turn=1).event["text"] == "Yes."
    assert [r.event["turn"] for r in t.events("reply_done")] == [1]


def test_a_short_noise_without_words_is_nothing_said() -> None:
    """No clarifying question for a click the recognizer finds no words in."""
    t = Timeline()
    t.say(0.5, 0.74, "").run(5.0)
    assert not t.events("reply_done") and not t.events("transcript")
    assert t.events("speech_discarded") and t.states()[-1] == "listening"


def test_a_short_acknowledgement_over_a_reply_lets_it_go_on() -> None:
    llm = FakeLLM("Here is a long story. It goes on and on. It has a dragon in it.")
    t = Timeline(llm=llm)
    t.say(0.5, 1.5, "Tell me a story.").say(3.0, 3.24, "Mhm.").run(12.0)
    assert [r.event["turn"] for r in t.events("reply_done")] == [1]
    assert not [r for r in t.events("transcript") if r.event["text"] == "Mhm."]


def test_a_backchannel_over_a_reply_lets_it_go_on() -> None:
    """ "Yeah, right." said over a reply is long enough to be words: they are a listener's
    "go on", not a turn. The reply picks up again from the sentence it cut."""
    llm = FakeLLM("Here is a long story. It goes on and on. It has a dragon in it.")
    t = Timeline(llm=llm)
    t.say(0.5, 1.5, "Tell me a story.").say(3.0, 3.5, "Yeah, right.").run(14.0)
    assert [r.event["turn"] for r in t.events("reply_done")] == [1]
    assert t.first("ignored").event == {"type": "ignored", "turn": 2, "reason": "backchannel"}
    resumed = t.first("resume", turn=1).at
    assert resumed - 3500 < 400  # as soon as its words are known: "go on" needs no end-of-turn wait
    assert not t.events("transcript", turn=2)


def test_words_over_a_reply_that_are_not_a_backchannel_stop_it() -> None:
    llm = FakeLLM("Here is a long story. It goes on and on. It has a dragon in it.")
    t = Timeline(llm=llm)
    t.say(0.5, 1.5, "Tell me a story.").say(3.0, 3.5, "Okay, stop.").run(14.0)
    assert not t.events("resume", turn=1) and not t.events("ignored")
    assert t.first("transcript", turn=2).event["text"] == "Okay, stop."


def test_a_short_word_over_a_reply_that_is_not_a_backchannel_stops_it() -> None:
    """ "Stop." lasts a quarter second, like a "mhm": its words, not its length, decide."""
    llm = FakeLLM("Here is a long story. It goes on and on. It has a dragon in it.")
    t = Timeline(llm=llm)
    t.say(0.5, 1.5, "Tell me a story.").say(3.0, 3.24, "Stop.").run(14.0)
    assert not t.events("resume", turn=1)
    assert t.first("transcript", turn=2).event["text"] == "Stop."


def test_a_reply_held_by_a_backchannel_keeps_the_audio_made_meanwhile() -> None:
    """Its later sentences are synthesized while the words said over it are judged: they
    are kept, and played once it goes on, to its end."""
    llm = FakeLLM("Here is a long story. It goes on and on. It has a dragon in it.")
    t = Timeline(llm=llm, delays=Delays(tts_ms=900))
    t.say(0.5, 1.5, "Tell me a story.").say(3.2, 3.7, "Yeah, right.").run(16.0)
    assert t.events("resume", turn=1)
    done = t.first("reply_done", turn=1).event
    assert done["text"] == "Here is a long story. It goes on and on. It has a dragon in it."
    sentences = {r.event["sentence"] for r in t.events("sentence_start", turn=1)}
    assert sentences == {0, 1, 2}


def test_stop_talking_ends_the_reply_keeps_what_was_heard_and_listens_on() -> None:
    from core.conversation.commands import Record

    llm = FakeLLM("Here is a long story. It goes on and on. It has a dragon in it.")
    t = Timeline(llm=llm)
    t.say(0.5, 1.5, "Tell me a story.")
    t.call_at(2.4, lambda: t._execute(t.engine.interrupt(t.now)))  # the page's "Stop talking"
    t.run(12.0)
    clear = t.first("clear", turn=1)
    assert clear.event["reason"] == "stopped" and 2400 <= clear.at < 2500
    assert not [r for r in t.audio(turn=1) if r.at > clear.at + t.delays.network_ms]  # nothing more of it
    cut = [a for _, a in t.actions if isinstance(a, Record) and a.role == "assistant"]
    assert cut and cut[-1].cut and cut[-1].text.endswith(" …")  # what was heard, marked cut
    assert t.states()[-1] == "listening"
    assert t.engine.interrupt(t.now) == []  # nothing to stop: nothing happens

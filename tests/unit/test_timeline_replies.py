"""The turn engine on a virtual clock, part two: replies prepared during the silence, the
reply's pieces, failures, and what a cut reply keeps."""

from __future__ import annotations

from core.conversation.commands import Cancel, Generate, Prepare, Record
from core.conversation.config import EngineConfig
from core.conversation.engine import TurnEngine
from core.conversation.events import ErrorNotice
from tests.support.fakes import FakeLLM
from tests.support.timeline import Delays, Timeline

# ----- speculative replies: generated while the end-of-turn silence is confirmed -----

SLOW_LLM = Delays(stt_ms=250, llm_first_token_ms=200, llm_token_ms=25, tts_ms=80)


def test_a_reply_generated_during_the_silence_is_committed_when_the_silence_holds() -> None:
    t = Timeline(delays=SLOW_LLM)
    t.say(0.51, 2.01, "tell me about the weather").run(6.0)
    # No punctuation, no trailing word: the turn ends after 450 ms of silence (2460).
    # The transcript is back at 2320, and the reply is generated from then on.
    (generate_at,) = [at for at, action in t.actions if isinstance(action, Generate)]
    assert generate_at == 2320
    commit = t.first("speech_stopped").at
    assert commit == 2460
    # The client hears nothing of the turn before it is committed ...
    assert t.first("state", state="thinking").at == commit
    assert t.first("transcript", turn=1).at == commit
    assert t.first("reply_text", turn=1).at >= commit
    # ... and the audio, ready at 2320 + 200 + 3 x 25 + 80 = 2675, goes out at once.
    assert t.audio(turn=1)[0].at == 2675
    assert t.first("reply_done", turn=1).event["timings"]["speculative"] == 1


def test_without_speculation_the_same_reply_starts_only_after_the_commit() -> None:
    t = Timeline(config=EngineConfig(speculative_reply=False), delays=SLOW_LLM)
    t.say(0.51, 2.01, "tell me about the weather").run(6.0)
    (generate_at,) = [at for at, action in t.actions if isinstance(action, Generate)]
    assert generate_at == 2460
    assert t.audio(turn=1)[0].at == 2460 + 200 + 3 * 25 + 80


def test_a_speculative_reply_is_discarded_without_a_trace_when_the_person_goes_on() -> None:
    t = Timeline(delays=SLOW_LLM)
    t.say(0.51, 2.01, "tell me about the weather").say(2.40, 3.51, "in Paris tomorrow.").run(8.0)
    assert [g.text for g in t.generate_calls] == [
        "tell me about the weather", "tell me about the weather in Paris tomorrow."]
    speculative = t.generate_calls[0].turn
    assert any(isinstance(a, Cancel) and a.turn == speculative for _, a in t.actions)
    # Nothing of the discarded turn ever reached the client: no state, text or audio.
    assert not [r for r in t.events() if r.event.get("turn") == speculative]
    assert not t.audio(turn=speculative)
    (done,) = t.events("reply_done")
    assert t.first("transcript", turn=done.event["turn"]).event["text"] == (
        "tell me about the weather in Paris tomorrow.")


def test_trailing_words_are_not_answered_ahead() -> None:
    t = Timeline(delays=SLOW_LLM)
    t.say(0.51, 2.01, "I want to book a table and").run(5.0)
    (generate_at,) = [at for at, action in t.actions if isinstance(action, Generate)]
    assert generate_at == t.first("speech_stopped").at >= 2010 + 1000


def test_a_failed_speculative_reply_is_generated_again_at_the_commit() -> None:
    engine = TurnEngine(EngineConfig())
    engine.start(0.0)
    engine.speech_started(0.0)
    engine.speech_paused(900, b"", 960.0)
    actions = engine.transcript(1, "tell me about the weather", 1200.0)
    (speculative,) = [a for a in actions if isinstance(a, Generate)]
    assert engine.failed(speculative.turn, None, "boom", True, "llm", 1250.0) == [Cancel(speculative.turn)]
    actions = engine.tick(900 + 450)
    (again,) = [a for a in actions if isinstance(a, Generate)]
    assert again.turn != speculative.turn and again.text == "tell me about the weather"
    assert not [a for a in actions if isinstance(a, ErrorNotice)]


def test_a_first_clause_is_spoken_first_and_does_not_shorten_the_reply() -> None:
    t = Timeline(llm=FakeLLM("Well now, one. Two. Three. Four."))
    t.say(0.5, 1.5, "Count for me.").run(6.0)
    texts = [r.event["text"] for r in t.events("reply_text", turn=1)]
    assert texts == ["Well now,", "one.", "Two.", "Three."]
    assert t.first("reply_done").event["text"] == "Well now, one. Two. Three."


def test_the_llm_is_told_the_new_history_as_soon_as_a_reply_is_done() -> None:
    t = Timeline()
    t.say(0.5, 1.5, "What is the capital of France?").run(5.0)
    done_at = t.first("reply_done", turn=1).at
    (prepared_at, prepare), = [(at, a) for at, a in t.actions if isinstance(a, Prepare)]
    assert prepared_at == done_at
    assert [m.text for m in prepare.history] == [
        "What is the capital of France?", "Paris is the capital. It is lovely."]


def test_each_sentence_is_announced_once_just_before_its_first_audio() -> None:
    llm = FakeLLM("Here is a long story. It goes on and on. It has a dragon in it.")
    t = Timeline(llm=llm)
    t.say(0.5, 1.5, "Tell me a story.").cough(3.0, ms=150).run(12.0)
    texts = t.events("reply_text", turn=1)
    assert [r.event["sentence"] for r in texts] == [0, 1, 2]
    starts = t.events("sentence_start", turn=1)
    assert [r.event["sentence"] for r in starts] == [0, 1, 2]  # once each, the resume included
    for start in starts:
        index = t.received.index(start)
        follows = t.received[index + 1]
        assert follows.audio is not None and follows.audio[0] == 1  # its first audio is next
        assert texts[start.event["sentence"]].at <= start.at  # the text is known by then


def test_asking_again_after_a_failed_answer_is_not_taken_as_a_repeat() -> None:
    engine = TurnEngine(EngineConfig())
    engine.start(0.0)
    actions = engine.text("What is the capital of France?", 100.0)
    (first,) = [a for a in actions if isinstance(a, Generate)]
    failed = engine.failed(first.turn, None, "boom", True, "llm", 300.0)
    assert [a.code for a in failed if isinstance(a, ErrorNotice)] == ["provider_failed"]
    again = [a for a in engine.text("What is the capital of France?", 2000.0) if isinstance(a, Generate)]
    assert again and again[0].text == "What is the capital of France?"


def test_a_cut_reply_is_stored_as_far_as_the_phone_played_it_not_as_far_as_it_was_sent() -> None:
    def stored_cut(played_ms: float | None) -> str:
        t = Timeline(llm=FakeLLM("First part here. Second part here. Third part here."))
        # The answer plays from 2.16 s, half a second a sentence; the caller cuts in at 2.9 s.
        t.say(0.5, 1.5, "Tell me something.").say(2.9, 3.9, "Wait, stop there.")
        if played_ms is not None:  # the marks echoed before the caller spoke
            t.call_at(2.85, lambda: t.engine.playback_progress(1, played_ms))
        t.run(10.0)
        cut = [a for _, a in t.actions if isinstance(a, Record) and a.role == "assistant" and a.cut]
        assert len(cut) == 1
        return cut[0].text

    assert stored_cut(None) == "First part here. Second part here. …"  # by the clock: what was sent
    assert stored_cut(300.0) == "First part here. …"  # the phone had played 0.3 s of it


def test_a_reply_cut_after_its_thinking_cue_keeps_what_was_heard() -> None:
    def timeline() -> Timeline:
        cue = (b"\x00\x01" * 20_800, 16_000)  # 1.3 s, from 800 ms after the commit
        return Timeline(config=EngineConfig(thinking_cue_ms=800, cue_audio=cue),
                        delays=Delays(llm_first_token_ms=2500),  # the answer comes after the cue
                        llm=FakeLLM("First part here. Second part here. Third part here."))

    probe = timeline()
    probe.say(0.5, 1.5, "Tell me something.").run(12.0)
    playing_from = probe.audio(turn=1)[0].at / 1000
    assert playing_from > probe.first("thinking").at / 1000 + 1.3  # the cue was over by then
    t = timeline()
    # The person cuts in 0.7 s into the answer: the first sentence (0.5 s) was heard, the next begun.
    t.say(0.5, 1.5, "Tell me something.").say(playing_from + 0.7, playing_from + 1.7, "Wait.").run(12.0)
    cut = [a for _, a in t.actions if isinstance(a, Record) and a.role == "assistant" and a.cut]
    assert [c.text for c in cut] == ["First part here. Second part here. …"]


def test_audio_kept_back_goes_out_first_when_the_next_piece_finds_the_reply_due() -> None:
    """A piece that arrives after the reply became due but before the next tick released
    what was kept back must not overtake it, nor leave it behind (seen with a
    speech-to-speech API streaming a whole answer in half a second)."""
    from core.conversation.events import ReplyAudio
    from core.conversation.results import ReplyPiece, SpeechChunk

    engine = TurnEngine(EngineConfig(speculative_reply=False))
    engine.start(0.0)
    engine.speech_started(0.0)
    actions = engine.utterance(1000, b"", 1100.0)
    (transcribe,) = [a for a in actions if type(a).__name__ == "Transcribe"]
    (generate,) = [a for a in engine.transcript(transcribe.job, "what time is it", 1150.0)
                   if isinstance(a, Generate)]
    engine.job_done(ReplyPiece(generate.turn, "It is noon. "), 1200.0)
    early = engine.job_done(SpeechChunk(generate.turn, 0, b"\x01\x00" * 100, 16_000), 1250.0)
    assert not [a for a in early if isinstance(a, ReplyAudio)]  # not due yet: kept back
    later = engine.job_done(SpeechChunk(generate.turn, 0, b"\x02\x00" * 100, 16_000), 1800.0)
    sent = [a.pcm[:1] for a in later if isinstance(a, ReplyAudio)]
    assert sent == [b"\x01", b"\x02"]


def test_the_speech_apis_own_words_replace_the_transcript_while_the_reply_is_under_way() -> None:
    from core.conversation.events import Transcript
    from core.conversation.results import Reheard, ReplyEnded, ReplyPiece, SpeechChunk, SpeechEnded

    engine = TurnEngine(EngineConfig(speculative_reply=False))
    engine.start(0.0)
    engine.speech_started(0.0)
    (transcribe,) = [a for a in engine.utterance(1000, b"", 1100.0) if type(a).__name__ == "Transcribe"]
    (generate,) = [a for a in engine.transcript(transcribe.job, "what tie is it", 1150.0)
                   if isinstance(a, Generate)]
    assert generate.job == transcribe.job  # (the turn's audio can go with it)
    actions = engine.job_done(Reheard(generate.turn, " What time is it? "), 1200.0)
    assert Record(generate.turn, "user", "What time is it?") in actions
    assert Transcript(generate.turn, "What time is it?") in actions
    audio = SpeechChunk(generate.turn, 0, b"\0\0" * 160, 16_000)
    for result in (ReplyPiece(generate.turn, "It is noon."), audio, ReplyEnded(generate.turn),
                   SpeechEnded(generate.turn)):
        engine.job_done(result, 1800.0)
    engine.tick(1800.0)
    assert engine.history[-2].text == "What time is it?"  # remembered with the API's words
    assert engine.job_done(Reheard(generate.turn, "Something else"), 1900.0) == []  # (reported: kept)

"""The turn engine's timings and limits for one conversation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineConfig:
    speculate_after_ms: int = 60  # the segmenter's pause event comes this long after speech
    commit_after_ms: int = 450  # silence that ends a turn when the words give no hint
    commit_done_ms: int = 200  # ... when they sound finished (question, full sentence)
    # ... when they or the voice trail off; the longest wait: a pause of 1.5 s (the longest
    # inside a sentence the product is held to) and the 90 ms it takes to know the voice is
    # back (3 voiced frames), with room for the client's frames arriving late
    commit_unfinished_ms: int = 1700
    min_reply_gap_ms: int = 650  # no reply sooner after the speech, unless it sounded finished
    hear_turn_ends: bool = False  # ask the turn model at each pause (``JudgeEnd``)
    finished_probability: float = 0.5  # the turn model's verdict from here up: it sounds finished
    weigh_words: bool = True  # ask the replies model, at each pause, whether the words end the line
    fragment_probability: float = 0.1  # its chance of the line ending below this: more is coming
    speculative_reply: bool = True  # generate while the end-of-turn silence is confirmed
    patience: bool = True  # wait out the ends of a person lately talked over mid-sentence
    refractory_ms: int = 200  # speech starting this soon after the reply ends is its echo
    false_interruption_ms: int = 2000  # a paused reply resumes if nothing real follows
    dedup_window_ms: int = 14_000  # the same words again within this time are not answered
    thinking_cue_ms: int = 800  # a short spoken cue when the answer is this late (0: off)
    cue_audio: tuple[bytes, int] | None = None  # (PCM16, sample rate) of the cue
    greeting_after_ms: int = 0  # greet when the person is silent this long at first (0: off)
    greeting_text: str = "Hi, I'm Sam. What can I do for you?"
    clarify_text: str = "Sorry, I didn't catch that. Could you say it again?"
    empty_reply_text: str = "Sorry, I don't have an answer to that."
    max_sentences: int = 3
    first_clause_words: int = 2  # the first piece spoken may be a clause this long (0: off)
    history_messages: int = 12
    playback_grace_ms: int = 500  # after the reply's length, assume it has been played

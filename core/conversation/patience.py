"""Learning a person's pauses from being talked over.

Some people stop for a second in the middle of a sentence, again and again (reading
aloud, thinking aloud, telling a story); the voice and the words at such a pause can
sound as finished as an end ("Last weekend we drove up to the mountains."). When the
person starts again within ``RESUMED_WITHIN_MS`` of the end of speech that was taken as
their turn, before its answer is heard or while it still plays, up to
``TALKED_OVER_WITHIN_MS`` into it, and says more than an acknowledgement or a request
(``goes_on``), the turn was taken too early: for their next ``PATIENT_TURNS`` turns every
end waits the longest silence (their reply is prepared meanwhile, so it is heard the
moment the wait is over), but a question or a request, which waits a breath (not in the
words that carried the sentence on). Each pause that only the patient wait held renews
it, so it lasts while the person keeps pausing that way; a person who does not pause
that way never sees it. Used only with ``EngineConfig.patience``
(``VOICECHAT_TURN_PATIENCE``).
"""

from __future__ import annotations

from core.conversation.endpointing import is_backchannel, normalized, requests
from core.conversation.reply_turn import ReplyTurn

RESUMED_WITHIN_MS = 2000  # the longest pause inside a sentence the product is held to (1.5 s), and more
# Into the answer's audio, while it still plays (or before it): they were not listening to
# it. As long as the longest pause the product is held to: a reply 0.3 s into a 1.5 s
# pause is talked over 1.2 s into its audio.
TALKED_OVER_WITHIN_MS = 1500
PATIENT_TURNS = 4  # turns taken patiently after the last one taken too early


def goes_on(words: str) -> bool:
    """Do the words said over an answer carry on the person's own sentence? Not an
    acknowledgement ("mhm"), not a request ("Tell me about the sea instead."). A question
    or a first "wait" or "no" is not told apart: the recognizer makes them out of the
    middles of sentences ("Stopped at a little cafe" → "Stop, ...", "who lives in
    Chicago?"), and being patient costs a question only a breath."""
    return bool(normalized(words)) and not is_backchannel(words) and not requests(words)


class Patience:
    def __init__(self) -> None:
        self._taken_end_at: float | None = None  # end of the speech last taken as a turn (ms)
        self._resumed_at: float | None = None  # speech started soon after it (ms)
        self.turns_left = 0
        # The words since the turn taken too early carry on its sentence: until the next turn
        # is taken, a question mark there is the recognizer's, not a question ("My sister"
        # talked over, then "who lives in Chicago?"), and waits as long as any other end.
        self.continuing = False
        self.too_early = 0  # turns found taken too early, this conversation
        self.renewed = 0  # pauses held only by being patient, this conversation

    @property
    def patient(self) -> bool:
        return self.turns_left > 0

    def taken(self, speech_end_at: float) -> None:
        """A turn was committed for the speech that ended at ``speech_end_at``."""
        if self.turns_left:
            self.turns_left -= 1
        self._taken_end_at, self._resumed_at = speech_end_at, None
        self.continuing = False

    def speech_started(self, now: float, answer: ReplyTurn | None, playing: bool) -> None:
        """``answer``: the reply under way, if any (``playing``: its audio still being
        heard). Over its start, or before it is heard: a sign; after it (a quick next
        question after a short answer), none."""
        taken = self._taken_end_at
        heard_at = answer.first_audio_at if answer is not None else None
        over_its_start = answer is not None and (
            heard_at is None or (playing and now - heard_at <= TALKED_OVER_WITHIN_MS))
        soon = taken is not None and now - taken <= RESUMED_WITHIN_MS
        if over_its_start and soon and self._resumed_at is None:
            self._resumed_at = now

    def nothing_said(self) -> None:
        """The sound after the pause was not speech (a cough, a click)."""
        self._resumed_at = None

    def heard(self, words: str) -> None:
        """The words said after the pause are known: words that carry on (``goes_on``)
        mean the person was still going on when their turn was taken."""
        if self._resumed_at is None:
            return
        self._resumed_at = self._taken_end_at = None
        if goes_on(words):
            self.turns_left = PATIENT_TURNS
            self.too_early += 1
            self.continuing = True

    def renew(self) -> None:
        """A pause held only by the patient wait: the person still pauses that way."""
        if self.turns_left:
            self.turns_left = PATIENT_TURNS
            self.renewed += 1

    def forget(self) -> None:
        self._taken_end_at = self._resumed_at = None
        self.turns_left = 0
        self.continuing = False

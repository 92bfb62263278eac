"""Does a transcript sound finished? The words decide how long to wait for more.

A person who stops after "and", "so", "because" or "um" is usually about to go on;
one who ends a question or a full sentence is usually done. The end-of-turn wait is
stretched for the first and shortened for the second.
"""

from __future__ import annotations

import re
from enum import Enum

# Words that leave a sentence hanging when they are the last thing said. The first
# set never ends an English sentence; the second usually does not, but can ("I love
# it.", "I'm not sure about that.", "for a while."): where a model weighs the words
# (``weighed``), it decides those.
_NEVER_LAST = frozenset("""
and or but because although whereas unless if um uh er erm the a an my your their our its
""".split())
_OFTEN_TRAILING = frozenset("""
so since though while when until like mean well his her this that these those some any
to of in on at for with from by about into than as
is are was were be been am do does did have has had will would can could should
i we you he she they it
""".split())
_TRAILING = _NEVER_LAST | _OFTEN_TRAILING
_WORD = re.compile(r"[a-z0-9']+")  # (digits too: "What is 2 plus 2?" is not "What is 3 plus 3?")


class Finish(Enum):
    DONE = "done"  # a question or a full sentence: answer soon
    UNFINISHED = "unfinished"  # trailing conjunction, article, filler: wait longer
    UNKNOWN = "unknown"


def judge(text: str) -> Finish:
    stripped = text.strip()
    words = _WORD.findall(stripped.lower())
    if not words:
        return Finish.UNKNOWN
    if stripped.endswith("?"):
        return Finish.DONE  # "... does a spider have?" ends on a helper verb, and is done
    if _trails_off(stripped) or words[-1] in _TRAILING:
        return Finish.UNFINISHED
    if stripped.endswith((".", "!")) and len(words) >= 2:
        return Finish.DONE
    return Finish.UNKNOWN


# Fewer words than this, and a base model expects more after them as often as not
# ("Yes", "Ever tried", "No matter"), though such lines are whole answers.
WEIGHED_MIN_WORDS = 3


def worth_weighing(text: str) -> bool:
    """Could a model's view of whether the line ends here change the wait? Not for words
    that surely trail off ("and", a comma), nor for one or two words."""
    words = _WORD.findall(text.lower())
    return len(words) >= WEIGHED_MIN_WORDS and words[-1] not in _NEVER_LAST and not _trails_off(text.strip())


# A question mark (the recognizer's judgement of syntax and melody) or a request verb
# first is evidence of an end of its own: the model must find an end this many times
# less likely to overrule it ("Can you remind me?" 0.004; "Can you help me?" 0.035).
ASKED_EVIDENCE = 10


def weighed(text: str, ends_here: float | None, below: float) -> Finish:
    """The verdict on the words with the model's view, when it has one: more is coming
    when it gives the line less than ``below`` chance of ending here ("My sister, who
    lives in Chicago."), and a last word that only often trails off is its to judge
    ("I'm not sure about that." ends; "What I wanted to say is" does not)."""
    if ends_here is None or not worth_weighing(text):
        return judge(text)
    if ends_here < (below / ASKED_EVIDENCE if asks(text) else below):
        return Finish.UNFINISHED
    return Finish.DONE if text.strip().endswith((".", "!", "?")) else Finish.UNKNOWN


def _trails_off(stripped: str) -> bool:
    return stripped.endswith(("...", "…", ",", "-", "—"))


# What a listener says to mean "go on" (or that Whisper writes for it): over a reply
# being heard, an utterance made only of these is not a turn.
_BACKCHANNEL = frozenset("""
mhm mm mmhm hm hmm uh huh um yeah yes yep yup ya right okay ok sure alright cool nice wow
oh ah aha i see got it really true exactly indeed all
""".split())
BACKCHANNEL_MAX_WORDS = 3


# Hums and sighs however many letters Whisper gives them: "Mmm", "Hmmm", "Ahh", "Ohh", "Em".
_HUM = re.compile(r"^(?:m+h*m*|h+m+|a+h+|o+h+|u+h+|e+m+)$")
# One hum written as a run of syllables or letters: "Mm-mm-mm-mm", "M-H-M", "M. M. M."
_HUM_SYLLABLE = re.compile(r"^(?:m+|h+m*|m+h+m*)$")


def is_backchannel(text: str) -> bool:
    """"Mhm.", "Yeah, right.", "Oh, okay.", "Mm-mm-mm" — not "Okay, stop." nor "Yes, and
    what about..."."""
    words = _WORD.findall(text.lower().replace("-", " "))
    if words and all(_HUM_SYLLABLE.match(w) for w in words):
        return True
    return 0 < len(words) <= BACKCHANNEL_MAX_WORDS and all(
        w in _BACKCHANNEL or _HUM.match(w) for w in words)


# A request is a whole speech act in its words, as a question is: "Tell me something
# about the moon." Narration seldom opens with these.
_REQUEST_VERBS = frozenset("""
tell give show explain describe recommend suggest remind play find help list name read
say teach translate define calculate set call open repeat please
""".split())


def asks(text: str) -> bool:
    """A question ("...?") or a request ("Tell me about the weather."): what the words
    say is complete, whatever the voice did."""
    return text.strip().endswith("?") or requests(text)


def requests(text: str) -> bool:
    """A request: a request verb first, three words or more, a full stop or "!" at the end."""
    stripped = text.strip()
    words = _WORD.findall(stripped.lower())
    return len(words) >= 3 and words[0] in _REQUEST_VERBS and stripped.endswith((".", "!"))


def normalized(text: str) -> str:
    """Lower-case words only: how two utterances or replies are compared."""
    return " ".join(_WORD.findall(text.lower()))

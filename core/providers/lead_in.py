"""How a small base model's reply starts when the person takes up its own offer.

Asked "Would you like a tip for sleeping better?", a person says "Okay." and means
"give it to me". A 270M base model answers the word instead, often in the person's
voice ("I'm a little tired."). The reply prompt can start Sam's line for it with the
delivery of what was offered ("Here's a tip for sleeping better:"); the model goes on
from there, and those words can be spoken at once. A "no" to an offer gets "Okay, no
problem." to go on from. Anything else (a question, a longer answer, a last line that
is not an offer this can read) gets no lead-in: the model answers as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.providers.base import Message

_WORD = re.compile(r"[a-z']+")
_YES = frozenset("""
yes yeah yep yup sure okay ok alright please go on ahead mhm mm uh huh of course definitely
absolutely why not sounds good great fine right
""".split())
_DECLINE = "Okay, no problem."
_GIVING = "give|tell|show|suggest|recommend|teach|share|read|find"
# The offer forms, each with what to say when it is taken up; ``{}`` is the thing offered.
_FORMS = (
    (r"^(?:would|do) you (?:like|want) to (?:know|hear|learn|see|get|try) (.+)$", "Here's {}:"),
    (r"^(?:would|do) you (?:like|want) to (.+)$", "Let's {}."),
    (r"^(?:would|do) you (?:like|want) (.+)$", "Here's {}:"),
    (rf"^(?:shall|should|can|may) i (?:{_GIVING})(?: you)? (.+)$", "Here's {}:"),
    (rf"^(?:do you )?want me to (?:{_GIVING})(?: you)? (.+)$", "Here's {}:"),
)
_OFFERS = tuple((re.compile(pattern, re.IGNORECASE), say) for pattern, say in _FORMS)


def lead_in(history: Sequence[Message], user_text: str) -> str | None:
    """The start of Sam's reply when ``user_text`` takes up (or turns down) the offer in
    Sam's last line; None otherwise."""
    if not history or history[-1].role != "assistant":
        return None
    said = _WORD.findall(user_text.lower())
    if not said or len(said) > 3:
        return None
    delivery = offered(history[-1].text)
    if delivery is None:
        return None
    if said[0] in ("no", "nope"):
        return _DECLINE
    return delivery if all(word in _YES for word in said) else None


def offered(line: str) -> str | None:
    """What taking up the offer that ends ``line`` sounds like: "Would you like a tip for
    sleeping better?" → "Here's a tip for sleeping better:"; None if it ends otherwise."""
    last = re.split(r"(?<=[.!?])\s+", line.strip())[-1]
    if not last.endswith("?"):
        return None
    question = " ".join(last[:-1].split())
    for pattern, say in _OFFERS:
        if (match := pattern.match(question)) is not None:
            what = match[1]
            return say.format(f"a bit about {what[6:]}" if what.lower().startswith("about ") else what)
    return None

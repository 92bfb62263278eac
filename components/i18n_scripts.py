"""The English the page scripts translate: every string literal given to
``VoiceChat.t(...)`` or ``VoiceChat.words(...)`` in ``assets/*.js`` (pieces joined with
``+`` count as one string). The page carries these words' translations only."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

_LITERAL = r'"(?:[^"\\\n]|\\.)*"'
_CALL = re.compile(r"VoiceChat\.(?:t|words)\(\s*(" + _LITERAL + r"(?:\s*\+\s*" + _LITERAL + r")*)")


def words_in(source: str) -> set[str]:
    found = set()
    for match in _CALL.finditer(source):
        pieces = re.findall(_LITERAL, match.group(1))
        found.add("".join(json.loads(piece) for piece in pieces))
    return found


@cache
def script_words(assets: str) -> frozenset[str]:
    """Every translated English string in the scripts of the folder ``assets``."""
    found: set[str] = set()
    for script in sorted(Path(assets).glob("*.js")):
        found |= words_in(script.read_text(encoding="utf-8"))
    return frozenset(found)

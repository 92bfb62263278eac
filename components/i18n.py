"""The voice page's words in the languages the assistant offers.

English is written in the code and is the key: ``tr("Start")`` gives the current
language's word for it (``components/locales/<code>.json``), or the English when a
catalogue lacks it. The page is drawn per language (``using``); the page scripts get
their part of the catalogue in the page itself (``page_catalogue``) and translate with
``VoiceChat.t`` (``assets/i18n.js``). The language comes from ``?lang=``, then the
person's earlier choice (a cookie), then the browser's Accept-Language.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from werkzeug.datastructures import LanguageAccept

# Each language by its own name, as a person looks for it in a list.
LANGUAGES = {
    "en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "it": "Italiano",
    "pt": "Português", "nl": "Nederlands", "ja": "日本語", "zh": "中文",
}
DEFAULT = "en"
COOKIE = "voicechat_lang"
LOCALES = Path(__file__).resolve().parent / "locales"

_language: ContextVar[str] = ContextVar("page_language", default=DEFAULT)
_asked: ContextVar[set[str] | None] = ContextVar("asked_words", default=None)


@cache
def catalogue(language: str) -> dict[str, str]:
    """English → ``language``; empty for English (and for an unknown code)."""
    if language == DEFAULT or language not in LANGUAGES:
        return {}
    return json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))


def tr(english: str, **values: object) -> str:
    """``english`` in the page's current language, ``{name}`` filled from ``values``."""
    asked = _asked.get()
    if asked is not None:
        asked.add(english)
    words = catalogue(_language.get()).get(english, english)
    return words.format(**values) if values else words


def current() -> str:
    return _language.get()


@contextmanager
def using(language: str) -> Iterator[None]:
    """Every ``tr`` inside speaks ``language``."""
    token = _language.set(language if language in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _language.reset(token)


@contextmanager
def recording() -> Iterator[set[str]]:
    """The English of every ``tr`` asked inside (to check the catalogues are whole)."""
    asked: set[str] = set()
    token = _asked.set(asked)
    try:
        yield asked
    finally:
        _asked.reset(token)


def negotiate(query: str | None, cookie: str | None, accept: LanguageAccept | None) -> str:
    """The page's language: an explicit ``?lang=``, the kept choice, the browser's."""
    for asked in (query, cookie):
        if asked and asked.lower() in LANGUAGES:
            return asked.lower()
    if accept is not None:
        best = accept.best_match(list(LANGUAGES))
        if best:
            return best
    return DEFAULT


def page_catalogue(language: str, scripts: frozenset[str]) -> str:
    """The JSON the page scripts translate with: only the words they use."""
    words = catalogue(language)
    return json.dumps({english: words[english] for english in sorted(scripts) if english in words},
                      ensure_ascii=False, separators=(",", ":"))

"""The voice page in the assistant's languages: every catalogue whole, the language
chosen as a person expects (?lang=, then the kept choice, then the browser's)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from components import i18n, layout, transcript
from components.i18n_scripts import script_words, words_in
from core.providers.choice import LANGUAGES as ASSISTANT_LANGUAGES
from tests.support.app_routes import routed

ASSETS = str(Path(__file__).resolve().parents[2] / "assets")
TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]


def accept(header: str) -> LanguageAccept:
    return parse_accept_header(header, LanguageAccept)


def python_words() -> set[str]:
    """The English the drawn page asks for, in each of its variants."""
    with i18n.recording() as asked:
        for access in (None, "passcode", "link"):
            layout.render(access=access)
        for stored, days in ((False, 0), (True, 0), (True, 1), (True, 30)):
            transcript.privacy_note(stored, days)
    return asked


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_the_interface_offers_every_language_the_assistant_speaks() -> None:
    assert set(i18n.LANGUAGES) == set(ASSISTANT_LANGUAGES)


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalogue_translates_every_word_of_the_page_and_nothing_else(language: str) -> None:
    wanted = python_words() | script_words(ASSETS)
    assert len(wanted) > 150  # (the page and its scripts; an extractor that found nothing would pass)
    words = i18n.catalogue(language)
    assert sorted(wanted - set(words)) == []  # missing
    assert sorted(set(words) - wanted) == []  # no longer on the page
    for english, translated in words.items():
        assert translated.strip(), english
        assert placeholders(translated) == placeholders(english), (english, translated)


def test_words_are_translated_in_the_current_language_and_english_stays_the_key() -> None:
    assert i18n.tr("Start") == "Start"
    with i18n.using("de"):
        assert i18n.current() == "de"
        assert i18n.tr("Settings") == i18n.catalogue("de")["Settings"] != "Settings"
        assert i18n.tr("not a word of the page") == "not a word of the page"
    with i18n.using("xx"):  # (an unknown code draws English)
        assert i18n.tr("Start") == "Start"
    assert i18n.current() == "en"


def test_placeholders_are_filled_in_every_language() -> None:
    for language in i18n.LANGUAGES:
        with i18n.using(language):
            assert "30" in transcript.privacy_note(True, 30)


@pytest.mark.parametrize(("query", "cookie", "header", "expected"), [
    (None, None, "de-DE,de;q=0.9,en;q=0.8", "de"),
    (None, None, "pt-BR", "pt"),
    (None, None, "zh-CN,zh;q=0.9", "zh"),
    (None, None, "ko-KR,ko;q=0.9", "en"),
    (None, "fr", "de-DE", "fr"),  # the person's own choice beats the browser's
    ("ja", "fr", "de-DE", "ja"),  # and a link's ?lang= beats both
    ("JA", None, None, "ja"),
    ("klingon", "nonsense", "it", "it"),  # (unknown codes are passed over)
    (None, None, None, "en"),
])
def test_the_language_is_chosen_as_a_person_expects(query: str | None, cookie: str | None, header: str | None,
                                                     expected: str) -> None:
    assert i18n.negotiate(query, cookie, accept(header) if header else None) == expected


def test_the_page_carries_only_its_scripts_words() -> None:
    carried = json.loads(i18n.page_catalogue("fr", frozenset({"Listening", "no such word"})))
    assert carried == {"Listening": i18n.catalogue("fr")["Listening"]}
    assert json.loads(i18n.page_catalogue("en", script_words(ASSETS))) == {}


def test_the_extractor_joins_pieces_and_reads_escapes() -> None:
    source = 'x(VoiceChat.t("Waiting {n} s", { n })); y = VoiceChat.words("Say \\"hi\\" "\n  + "again");'
    assert words_in(source) == {"Waiting {n} s", 'Say "hi" again'}


def test_the_server_draws_the_page_in_the_browsers_language(app_with_token) -> None:
    app = app_with_token("")
    german = i18n.catalogue("de")["Start"]
    page = routed(app, "/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert json.dumps(german, ensure_ascii=False) in page and '"data-lang": "de"' in page
    assert routed(app, "/", headers={"Accept-Language": "de-DE"}, part="theme") == '{"locale": "de-de"}'
    french = routed(app, "/", search="?lang=fr", headers={"Accept-Language": "de-DE"})
    assert '"data-lang": "fr"' in french
    kept = routed(app, "/", headers={"Accept-Language": "de-DE"}, cookies={i18n.COOKIE: "it"})
    assert '"data-lang": "it"' in kept
    assert '"data-lang": "en"' in routed(app, "/")
    # English (and the admin page): the provider is left as drawn, not drawn again
    assert "theme" not in json.loads(routed(app, "/", part="*"))
    assert "theme" not in json.loads(routed(app, "/admin", headers={"Accept-Language": "de"}, part="*"))


def test_every_translated_literal_in_the_scripts_is_one_the_extractor_sees() -> None:
    """An alias (``VC.t("...")``) would hide its words from the catalogues' check."""
    hidden = re.compile(r'(?<!VoiceChat)\.(?:t|words)\(\s*"')
    for script in sorted(Path(ASSETS).glob("*.js")):
        found = [line for line in script.read_text(encoding="utf-8").splitlines() if hidden.search(line)]
        assert found == [], script.name

"""A page's speech-to-speech choice (``core.providers.speech.choice``): which API, at which
address, with whose key; and how a ``settings`` message carries it into the session."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.conversation.config import EngineConfig
from core.errors import ClientError
from core.providers.speech.choice import (
    DEFAULT_MODELS,
    KINDS,
    OFF,
    PUBLIC_URLS,
    SERVER_URL,
    SpeechChoice,
    updated_speech,
)
from core.providers.speech.provider import speech_provider
from core.session.session_settings import SPEECH_MAX_SENTENCES, SessionSettings, updated
from core.settings import Settings

PAGE_KEY = "sk-page-secret"
SERVER_KEY = "sk-server-secret"
OWN_URL = "wss://speech.internal.example/v1/realtime"
ALLOWED = ("ws://127.0.0.1:9000/v1/realtime", "wss://speech.example.org/live")
# A server on localhost using the OpenAI Realtime API's public address with its own key.
LOCAL = Settings().replace(speech_provider="openai-realtime", speech_api_key=SERVER_KEY,
                           client_speech_urls=f"{ALLOWED[0]}, {ALLOWED[1]}/")
# The same with an address of its own (a proxy, a self-hosted API).
OWN = LOCAL.replace(speech_base_url=OWN_URL + "/")
# Reachable from other machines (bound beyond localhost; anyone may talk, so it starts).
EXPOSED = LOCAL.replace(host="0.0.0.0", public_access=True)
NO_SPEECH = Settings().replace(client_speech_urls=ALLOWED[0])


def choose(changes: dict[str, Any], s: Settings = LOCAL, current: SpeechChoice | None = None) -> SpeechChoice:
    return updated_speech(current or SpeechChoice.defaults(s), changes, s)


def refused(changes: dict[str, Any], s: Settings = LOCAL, code: str = "invalid_message") -> str:
    with pytest.raises(ClientError) as error:
        choose(changes, s)
    assert error.value.code == code, str(error.value)
    return str(error.value)


def test_the_settings_used_here_are_what_they_claim() -> None:
    assert not LOCAL.exposed and not OWN.exposed
    assert EXPOSED.exposed and EXPOSED.exposure_problem() is None and not EXPOSED.server_key_for_pages
    assert LOCAL.replace(allowed_hosts="voice.example.org").exposed  # (named for a proxy: exposed too)


# ----- kinds and addresses ------------------------------------------------------------------------
def test_every_kind_may_be_chosen_and_no_other() -> None:
    for kind in KINDS:
        choice = choose({"speech_provider": kind, "speech_api_key": PAGE_KEY}, NO_SPEECH)
        assert choice.kind == kind and choice.on == (kind != OFF)
    assert "speech_provider" in refused({"speech_provider": "sonic"})
    assert "speech_provider" in refused({"speech_provider": "OpenAI-Realtime"})
    assert "speech_provider" in refused({"speech_provider": 1})
    assert "speech_voice" in refused({"speech_voice": None})


def test_the_defaults_are_the_servers_choice() -> None:
    assert SpeechChoice.defaults(Settings()) == SpeechChoice()  # off
    assert not SpeechChoice().on
    own = SpeechChoice.defaults(OWN)
    assert (own.kind, own.base_url, own.api_key) == ("openai-realtime", SERVER_URL, "")
    assert own.url(OWN) == OWN_URL
    assert SpeechChoice.defaults(LOCAL).url(LOCAL) == PUBLIC_URLS["openai-realtime"]
    assert own.model_name() == DEFAULT_MODELS["openai-realtime"] and own.voice_name() == "alloy"
    assert own.as_event()["speech_base_url"] == SERVER_URL  # (the server's address is not shown)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9000/v1/realtime", "https://api.openai.com/v1/realtime", "file:///etc/passwd",
    "ws://", "wss:///path", "javascript:alert(1)", "ftp://speech.example.org", "127.0.0.1:9000",
])
def test_only_websocket_addresses(url: str) -> None:
    assert "ws://" in refused({"speech_provider": "openai-realtime", "speech_base_url": url,
                               "speech_api_key": PAGE_KEY})


@pytest.mark.parametrize("url", [
    "ws://169.254.169.254/latest", "wss://evil.example/v1/realtime", "ws://127.0.0.1:9001/v1/realtime",
    "ws://127.0.0.1:9000/v1/realtime/other", "wss://api.openai.com/v1/realtime?model=x",
])
def test_a_page_may_name_only_the_addresses_the_admin_allows(url: str) -> None:
    changes = {"speech_provider": "openai-realtime", "speech_base_url": url, "speech_api_key": PAGE_KEY}
    message = refused(changes, code="forbidden_endpoint")
    assert "VOICECHAT_CLIENT_SPEECH_URLS" in message


def test_the_allowed_addresses_the_public_ones_and_the_servers_own() -> None:
    for url in (*ALLOWED, ALLOWED[0] + "/", ALLOWED[1] + "/", *PUBLIC_URLS.values()):
        choice = choose({"speech_provider": "gemini-live", "speech_base_url": url,
                         "speech_api_key": PAGE_KEY})
        assert choice.base_url == url.rstrip("/")
    assert choose({"speech_base_url": SERVER_URL}, OWN).url(OWN) == OWN_URL
    assert choose({"speech_base_url": OWN_URL}, OWN).base_url == SERVER_URL  # typed out in full
    assert choose({"speech_base_url": " " + OWN_URL + "/ "}, OWN).base_url == SERVER_URL
    # "server" only when the server has an address of its own
    assert "address of its own" in refused({"speech_base_url": SERVER_URL}, LOCAL)


# ----- whose key ----------------------------------------------------------------------------------
def test_the_pages_key_is_never_shown() -> None:
    choice = choose({"speech_provider": "gemini-live", "speech_api_key": f"  {PAGE_KEY}  "})
    assert choice.key(LOCAL) == PAGE_KEY
    event = choice.as_event()
    assert event["speech_api_key_set"] is True and "speech_api_key" not in event
    assert PAGE_KEY not in json.dumps(event) and PAGE_KEY not in repr(choice)
    assert SpeechChoice.defaults(LOCAL).as_event()["speech_api_key_set"] is False
    assert SERVER_KEY not in json.dumps(SpeechChoice.defaults(LOCAL).as_event())


def test_the_servers_key_goes_only_to_its_own_kind_and_address() -> None:
    assert SpeechChoice.defaults(LOCAL).key(LOCAL) == SERVER_KEY
    assert SpeechChoice.defaults(OWN).key(OWN) == SERVER_KEY
    # a page-chosen address of the admin's list: no key of the server's goes there
    elsewhere = choose({"speech_base_url": ALLOWED[0]})
    assert elsewhere.kind == LOCAL.speech_provider and elsewhere.key(LOCAL) == ""
    # the public address named out in full is not the server's own choice either
    with pytest.raises(ClientError, match="your API key"):
        choose({"speech_base_url": PUBLIC_URLS["openai-realtime"]})
    # on a server with an address of its own, the public one is somewhere else
    with pytest.raises(ClientError, match="your API key"):
        choose({"speech_base_url": ""}, OWN)
    # another kind at the server's own address: the page's key, or none
    assert choose({"speech_provider": "gemini-live"}, OWN).key(OWN) == ""
    gemini = choose({"speech_provider": "gemini-live", "speech_api_key": PAGE_KEY}, OWN)
    assert gemini.key(OWN) == PAGE_KEY


def test_the_key_the_provider_is_made_with() -> None:
    def headers(choice: SpeechChoice, s: Settings) -> list[str]:
        provider = speech_provider(choice, s)
        assert provider is not None
        return provider._dialect.headers()  # type: ignore[attr-defined]

    assert f"Authorization: Bearer {SERVER_KEY}" in headers(SpeechChoice.defaults(OWN), OWN)
    assert not any("Authorization" in h for h in headers(choose({"speech_base_url": ALLOWED[0]}), LOCAL))
    mine = choose({"speech_base_url": ALLOWED[0], "speech_api_key": PAGE_KEY})
    assert f"Authorization: Bearer {PAGE_KEY}" in headers(mine, LOCAL)
    gemini = choose({"speech_provider": "gemini-live", "speech_api_key": PAGE_KEY})
    assert headers(gemini, LOCAL) == [f"x-goog-api-key: {PAGE_KEY}"]
    assert speech_provider(SpeechChoice(), LOCAL) is None


def test_a_public_api_needs_a_key() -> None:
    for kind in ("openai-realtime", "gemini-live"):
        assert "your API key" in refused({"speech_provider": kind}, NO_SPEECH)
        assert "your API key" in refused({"speech_provider": kind, "speech_base_url": PUBLIC_URLS[kind]},
                                         NO_SPEECH)
    # another kind than the server's: the server's key does not go to the other company
    assert "your API key" in refused({"speech_provider": "gemini-live"}, LOCAL)
    # an address of the admin's own may need none
    assert choose({"speech_provider": "openai-realtime", "speech_base_url": ALLOWED[0]}, NO_SPEECH).on


def test_an_exposed_server_does_not_lend_its_key_for_another_model_or_voice() -> None:
    assert choose({"speech_provider": "openai-realtime"}, EXPOSED).key(EXPOSED) == SERVER_KEY  # its own
    for changes in ({"speech_model": "gpt-realtime-mini"}, {"speech_voice": "verse"},
                    {"speech_model": DEFAULT_MODELS["openai-realtime"]}):
        message = refused(changes, EXPOSED, code="forbidden_endpoint")
        assert "your own key" in message
        # with the page's own key it may; with the admin's consent the server's key may go
        assert choose({**changes, "speech_api_key": PAGE_KEY}, EXPOSED).key(EXPOSED) == PAGE_KEY
        lending = EXPOSED.replace(server_key_for_pages=True)
        assert choose(changes, lending).key(lending) == SERVER_KEY
        assert choose(changes, LOCAL).key(LOCAL) == SERVER_KEY  # on localhost it always may


@pytest.mark.parametrize("changes", [
    {"speech_model": "bad model"}, {"speech_model": "gpt;rm -rf"}, {"speech_model": "m" * 101},
    {"speech_voice": "<script>"}, {"speech_voice": "al\nloy"}, {"speech_model": "../../etc?x=1"},
    {"speech_api_key": "two words"}, {"speech_api_key": "k" * 301},
])
def test_odd_values_are_refused_by_name(changes: dict[str, Any]) -> None:
    message = refused({"speech_provider": "gemini-live", "speech_api_key": PAGE_KEY, **changes})
    assert next(iter(changes)) in message


def test_ordinary_model_and_voice_names_pass() -> None:
    choice = choose({"speech_model": "models/gemini-2.0-flash-live-001", "speech_voice": "Puck",
                     "speech_provider": "gemini-live", "speech_api_key": PAGE_KEY})
    assert (choice.model_name(), choice.voice_name()) == ("models/gemini-2.0-flash-live-001", "Puck")
    assert choose({"speech_model": "gpt-realtime-2025-08-28", "speech_voice": ""}).voice_name() == "alloy"


# ----- through the session's settings -------------------------------------------------------------
def test_a_settings_message_routes_the_speech_fields_to_the_speech_choice() -> None:
    current = SessionSettings.defaults(NO_SPEECH)
    new = updated(current, {"type": "settings", "patience": "quick", "speech_provider": "gemini-live",
                            "speech_api_key": PAGE_KEY, "speech_voice": "Kore"}, NO_SPEECH)
    assert new.speech == SpeechChoice(kind="gemini-live", api_key=PAGE_KEY, voice="Kore")
    assert new.patience == "quick" and new.providers == current.providers
    shown = new.as_event()
    assert shown["speech_provider"] == "gemini-live" and shown["speech_api_key_set"] is True
    assert PAGE_KEY not in json.dumps(shown)
    with pytest.raises(ClientError, match="VOICECHAT_CLIENT_SPEECH_URLS") as error:
        updated(new, {"patience": "patient", "speech_base_url": "ws://169.254.169.254/"}, NO_SPEECH)
    assert error.value.code == "forbidden_endpoint"
    with pytest.raises(ClientError, match="your API key"):  # (the message is checked as a whole)
        updated(current, {"speech_provider": "openai-realtime"}, NO_SPEECH)


def test_speech_turns_prepare_no_reply_ahead() -> None:
    base = EngineConfig()
    assert base.speculative_reply
    off = SessionSettings.defaults(NO_SPEECH)
    assert off.engine_config(base).speculative_reply and off.engine_config(base).max_sentences == 3
    on = updated(off, {"speech_provider": "openai-realtime", "speech_api_key": PAGE_KEY}, NO_SPEECH)
    config = on.engine_config(base)
    assert not config.speculative_reply and config.max_sentences == SPEECH_MAX_SENTENCES
    assert updated(on, {"speech_provider": OFF}, NO_SPEECH).engine_config(base).speculative_reply

"""A person's choice of providers, voice and language: checked, shared, applied per session."""

from __future__ import annotations

import json

import pytest

from core.errors import ClientError
from core.providers.base import ProviderError, Providers
from core.providers.catalog import MAX_IDLE_REMOTE_PROVIDERS, ProviderCatalog
from core.providers.choice import ProviderChoice, updated_choice
from core.session.options import PROVIDER_SWITCHES_PER_MINUTE
from core.settings import Settings
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS
from tests.support.openai_stub import FakeOpenAIHandler

SERVER_URL = "http://127.0.0.1:11434/v1"
SETTINGS = Settings(openai_base_url=SERVER_URL, openai_api_key="server-secret",
                    client_base_urls="https://llm.example.org/v1/, http://127.0.0.1:9999/v1")
LOCAL = ProviderChoice.defaults(SETTINGS)


def refused(changes: dict, code: str = "invalid_message") -> str:
    with pytest.raises(ClientError) as error:
        updated_choice(LOCAL, changes, SETTINGS)
    assert error.value.code == code
    return str(error.value)


def test_a_page_may_only_name_servers_the_admin_allows() -> None:
    message = refused({"llm_provider": "openai", "openai_base_url": "http://169.254.169.254/latest"},
                      code="forbidden_endpoint")
    assert "VOICECHAT_CLIENT_BASE_URLS" in message
    refused({"llm_provider": "openai", "openai_base_url": "http://localhost:8050/v1"},
            code="forbidden_endpoint")
    refused({"llm_provider": "openai", "openai_base_url": "file:///etc/passwd"})
    for allowed in (SERVER_URL, "https://llm.example.org/v1", "http://127.0.0.1:9999/v1/"):
        choice = updated_choice(LOCAL, {"llm_provider": "openai", "openai_base_url": allowed}, SETTINGS)
        assert choice.llm_provider == "openai"


def test_other_languages_need_providers_that_speak_them() -> None:
    message = refused({"language": "de"})
    assert "English only" in message and "speech recognition" in message and "voice" in message
    refused({"language": "xx"})
    german = updated_choice(LOCAL, {"language": "de", "stt_provider": "openai", "llm_provider": "openai",
                                    "tts_provider": "edge"}, SETTINGS)
    assert german.resolved_voice() == "de-DE-KatjaNeural"
    with pytest.raises(ClientError, match="does not speak German"):
        updated_choice(german, {"voice": "en-US-GuyNeural"}, SETTINGS)


@pytest.mark.parametrize("changes", [
    {"tts_provider": "sonic"}, {"stt_provider": "edge"}, {"voice": "amy"},
    {"tts_provider": "edge", "voice": "Aria; rm -rf"}, {"voice": 3},
    {"llm_provider": "openai", "openai_llm_model": "bad model name"},
    {"tts_provider": "openai", "openai_tts_voice": ""},
    {"llm_provider": "openai", "openai_api_key": "two words"},
])
def test_odd_values_are_refused_with_their_name(changes: dict) -> None:
    refused(changes)


def test_the_key_stays_on_the_server() -> None:
    choice = updated_choice(LOCAL, {"llm_provider": "openai", "openai_api_key": "sk-page"}, SETTINGS)
    shown = json.dumps(choice.as_event())
    assert "sk-page" not in shown and choice.as_event()["openai_api_key_set"] is True
    assert "sk-page" not in repr(choice)
    # No key from the page: the server's own key, but only for the server's own address.
    assert LOCAL.api_key(SETTINGS) == "server-secret"
    elsewhere = updated_choice(LOCAL, {"openai_base_url": "https://llm.example.org/v1"}, SETTINGS)
    assert elsewhere.api_key(SETTINGS) == ""


def catalog(settings: Settings = SETTINGS) -> ProviderCatalog:
    return ProviderCatalog(settings, None, Providers(FakeSTT(), FakeLLM(), FakeTTS()))


def test_the_defaults_use_the_servers_providers_and_equal_choices_share_one_client() -> None:
    shop = catalog()
    assert shop.providers_for(LOCAL) == shop.defaults
    remote = updated_choice(LOCAL, {"llm_provider": "openai", "tts_provider": "openai"}, SETTINGS)
    first, second = shop.providers_for(remote), shop.providers_for(remote)
    assert first.llm is second.llm and first.tts is second.tts
    assert first.stt is shop.defaults.stt and first.llm.name == "openai-llm"
    shop.close()


def remote_llm(number: int) -> ProviderChoice:
    return updated_choice(LOCAL, {"llm_provider": "openai", "openai_api_key": f"sk-{number}"}, SETTINGS)


def test_a_provider_in_use_is_never_closed_for_others() -> None:
    """One session asking for many setups (once an LRU of 32 that closed the oldest,
    in use or not) cannot close the client another session is talking through."""
    shop = catalog()
    held = shop.providers_for(remote_llm(0)).llm
    closed: list[object] = []
    held.close = lambda: closed.append(held)  # type: ignore[method-assign]
    for number in range(1, MAX_IDLE_REMOTE_PROVIDERS + 10):
        shop.release(*shop.providers_for(remote_llm(number)))
    assert closed == [] and shop.providers_for(remote_llm(0)).llm is held
    assert shop.remote_in_use() == 1
    shop.close()


def test_unused_remote_clients_are_kept_in_a_bounded_set_and_closed_oldest_first() -> None:
    shop = catalog()
    built = [shop.providers_for(remote_llm(n)) for n in range(MAX_IDLE_REMOTE_PROVIDERS + 5)]
    closed: list[int] = []
    for number, providers in enumerate(built):
        providers.llm.close = lambda n=number: closed.append(n)  # type: ignore[method-assign]
    assert len(shop._remote) == MAX_IDLE_REMOTE_PROVIDERS + 5  # all in use: none closed
    for providers in built:
        shop.release(*providers)
    assert closed == [0, 1, 2, 3, 4] and len(shop._remote) == MAX_IDLE_REMOTE_PROVIDERS
    assert shop.providers_for(remote_llm(MAX_IDLE_REMOTE_PROVIDERS + 4)).llm is built[-1].llm  # taken again
    shop.release(shop.defaults.llm)  # the server's own providers are not counted
    shop.close()


def test_a_failed_build_takes_nothing() -> None:
    shop = catalog(SETTINGS.replace(fallback_to_embedded=False))
    edge = updated_choice(LOCAL, {"llm_provider": "openai", "tts_provider": "edge"}, SETTINGS)
    with pytest.raises(ProviderError):  # no async runner: edge-tts cannot be built
        shop.providers_for(edge)
    assert shop.remote_in_use() == 0
    shop.close()


def test_a_session_switches_to_an_openai_compatible_server_and_back(make_harness, openai_server) -> None:
    h = make_harness(client_base_urls=openai_server)
    h.handle_text(json.dumps({"type": "settings", "llm_provider": "openai",
                                      "openai_base_url": openai_server, "openai_api_key": "sk-test"}))
    applied = h.sent.wait_event("settings_applied")
    assert applied["providers"]["llm"] == "openai-llm"
    assert "sk-test" not in json.dumps(applied)
    h.handle_text(json.dumps({"type": "text", "text": "What is the capital of France?"}))
    done = h.sent.wait_event("reply_done")
    assert "Paris is the capital" in done["text"]
    assert FakeOpenAIHandler.keys[-1] == "sk-test"
    h.handle_text(json.dumps({"type": "settings", "llm_provider": "local"}))
    h.sent.wait_for(lambda: len(h.sent.events("settings_applied")) == 2)
    assert h.sent.events("settings_applied")[1]["providers"]["llm"] == "fake-llm"


def test_a_voice_that_does_not_work_is_refused_and_nothing_changes(make_harness, openai_server) -> None:
    h = make_harness(client_base_urls=openai_server, thinking_cue_ms=800)
    FakeOpenAIHandler.status = 500
    h.handle_text(json.dumps({"type": "settings", "tts_provider": "openai", "max_sentences": 1,
                                      "openai_base_url": openai_server}))
    error = h.sent.wait_event("error", code="provider_failed")
    assert "openai-tts" in error["message"] and "not changed" in error["message"]
    assert h.session._engine.config.max_sentences == 3
    h.handle_text(json.dumps({"type": "text", "text": "Are you still there?"}))
    assert h.sent.wait_event("reply_done")["text"]  # the fake voice still answers


def test_a_session_may_switch_providers_only_a_few_times_a_minute_and_gives_them_back(make_harness) -> None:
    h = make_harness(openai_base_url=SERVER_URL)
    for number in range(PROVIDER_SWITCHES_PER_MINUTE):
        h.send(type="settings", llm_provider="openai", openai_api_key=f"sk-{number}")
        h.sent.wait_for(lambda n=number: len(h.sent.events("settings_applied")) == n + 1)
    assert h.catalog.remote_in_use() == 1  # each switch gave the previous client back
    h.send(type="settings", openai_api_key="sk-one-more")
    assert "a minute" in h.sent.wait_event("error", code="rate_limited")["message"]
    h.clock.advance(61.0)
    h.send(type="settings", openai_api_key="sk-later")
    h.sent.wait_for(lambda: len(h.sent.events("settings_applied")) == PROVIDER_SWITCHES_PER_MINUTE + 1)
    h.close()
    assert h.catalog.remote_in_use() == 0


EXPOSED = SETTINGS.replace(host="0.0.0.0", client_llm_models="small-model")


def test_an_exposed_server_lends_its_key_to_pages_only_when_its_admin_says_so() -> None:
    switch = {"llm_provider": "openai", "openai_llm_model": "gpt-4o-mini"}
    with pytest.raises(ClientError) as refused:
        updated_choice(LOCAL, switch, EXPOSED)
    assert refused.value.code == "forbidden_endpoint" and "own key" in str(refused.value)
    assert updated_choice(LOCAL, {**switch, "openai_api_key": "sk-own"}, EXPOSED).llm_provider == "openai"
    lending = EXPOSED.replace(server_key_for_pages=True)
    assert updated_choice(LOCAL, switch, lending).api_key(lending) == "server-secret"
    assert updated_choice(LOCAL, switch, SETTINGS).llm_provider == "openai"  # localhost: always


def test_with_the_servers_key_only_the_models_its_admin_names() -> None:
    with pytest.raises(ClientError) as refused:
        updated_choice(LOCAL, {"llm_provider": "openai", "openai_llm_model": "o1-pro"}, SETTINGS)
    assert refused.value.code == "forbidden_model" and "gpt-4o-mini" in str(refused.value)
    listed = SETTINGS.replace(client_llm_models="small-model, other")
    assert updated_choice(LOCAL, {"llm_provider": "openai", "openai_llm_model": "small-model"},
                          listed).openai_llm_model == "small-model"
    # With the page's own key, or on another allowed address, the model is the page's to pick.
    own = {"llm_provider": "openai", "openai_llm_model": "o1-pro", "openai_api_key": "sk-own"}
    assert updated_choice(LOCAL, own, SETTINGS).openai_llm_model == "o1-pro"


def test_a_server_configured_for_openai_keeps_its_own_setup_for_every_page() -> None:
    remote = EXPOSED.replace(llm_provider="openai")
    own_setup = ProviderChoice.defaults(remote)
    assert updated_choice(own_setup, {"voice": ""}, remote).llm_provider == "openai"
    with pytest.raises(ClientError):
        updated_choice(own_setup, {"openai_llm_model": "small-model"}, remote)  # not lent


def test_pages_never_see_the_servers_own_address() -> None:
    from plotly.utils import PlotlyJSONEncoder

    from components import layout
    from core.providers.choice import allowed_base_urls
    from core.session.session_settings import SessionSettings

    internal = SETTINGS.replace(openai_base_url="http://10.1.2.3:8000/v1/")
    defaults = SessionSettings.defaults(internal)
    page = json.dumps(layout.render(defaults, allowed_base_urls(internal)).to_plotly_json(),
                      cls=PlotlyJSONEncoder)
    assert "10.1.2.3" not in page and "own server" in page
    assert "10.1.2.3" not in json.dumps(defaults.as_event())
    chosen = updated_choice(defaults.providers, {"llm_provider": "openai", "openai_base_url": "server"},
                            internal)
    assert chosen.base_url(internal) == "http://10.1.2.3:8000/v1"
    assert chosen.api_key(internal) == "server-secret"
    # A page that names the address itself gets the same, shown as "server" too.
    named = updated_choice(defaults.providers, {"openai_base_url": "http://10.1.2.3:8000/v1"}, internal)
    assert named.as_event()["openai_base_url"] == "server"

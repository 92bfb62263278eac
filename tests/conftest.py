from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitoring.servers.server_process import ServerProcess
from monitoring.servers.speech.standin import SpeechStandIn
from tests.support.openai_stub import running_openai_stub

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
ADMIN_TOKEN = "admin-token-for-tests"  # the live server's: /metrics and the admin page


@pytest.fixture(scope="session")
def shared_openai_stub() -> Iterator[str]:
    """An OpenAI-compatible stand-in the live server allows pages to choose."""
    with running_openai_stub() as url:
        yield url


@pytest.fixture(scope="session")
def shared_speech_api() -> Iterator[SpeechStandIn]:
    """A stand-in of the OpenAI Realtime API the live server allows pages to choose."""
    with SpeechStandIn("openai-realtime") as api:
        yield api


@pytest.fixture
def openai_server() -> Iterator[str]:
    with running_openai_stub() as url:
        yield url


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, shared_openai_stub: str,
                shared_speech_api: SpeechStandIn) -> Iterator[ServerProcess]:
    """The real app with the embedded models, shared by the integration and browser tests."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    # No greeting: every test decides itself when the first words are said.
    server = ServerProcess(env={"VOICECHAT_GREETING_AFTER_MS": "0", "VOICECHAT_PHONE_ENABLED": "1",
                                "VOICECHAT_CLIENT_BASE_URLS": shared_openai_stub,
                                "VOICECHAT_CLIENT_SPEECH_URLS": shared_speech_api.url,
                                "VOICECHAT_ADMIN_TOKEN": ADMIN_TOKEN,
                                # every test reaches it from 127.0.0.1: one address's budget
                                "VOICECHAT_ADDRESS_TURNS_PER_MINUTE": "0",
                                "VOICECHAT_ADDRESS_REPLY_TOKENS_PER_MINUTE": "0"}, log_path=log)
    server.start()
    yield server
    server.stop()

"""Phone tests' shared parts: a real server with the phone routes (fake providers),
calls placed through its webhook, and Twilio's signature written out."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.phone.routes import MEDIA_PATH
from core.providers.base import Providers
from core.settings import Settings
from monitoring.clients.twilio_client import TwilioCall, incoming_call, new_call_sid, stream_instructions
from monitoring.servers.inprocess_server import InProcessServer
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS

DOCS_TOKEN = "12345"  # the auth token of Twilio's documented example
PUBLIC = "https://voice.example.com"


def signature(token: str, url: str, params: dict[str, str]) -> str:
    """The documented algorithm, written out: the URL, then each field's name and value
    sorted by name, HMAC-SHA1 under the auth token, base64."""
    signed = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


@pytest.fixture
def serve() -> Iterator[Callable[..., InProcessServer]]:
    servers: list[InProcessServer] = []

    def start(**changes: Any) -> InProcessServer:
        changes = {"greeting_after_ms": 0, "thinking_cue_ms": 0, "db_path": "", "phone_enabled": True,
                   "phone_greeting_after_ms": 100, **changes}
        server = InProcessServer(Settings().replace(**changes), Providers(FakeSTT(), FakeLLM(), FakeTTS()))
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


def media_url(server: InProcessServer) -> str:
    return f"ws://127.0.0.1:{server.port}{MEDIA_PATH}"


def webhook_call(server: InProcessServer) -> TwilioCall:
    """A call that came through the webhook, as Twilio places it."""
    call_sid = new_call_sid()
    return TwilioCall(stream_instructions(incoming_call(server.http_url, call_sid).text), call_sid,
                      url=media_url(server))




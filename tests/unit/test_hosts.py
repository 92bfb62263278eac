"""Which names the server answers to (DNS rebinding), which pages may open its socket,
and the headers every response carries: the policy alone, then on a real server."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest
import requests
import websocket

from core.providers.base import Providers
from core.settings import Settings
from core.transport.hosts import HostPolicy, host_name
from core.transport.http_guards import MAX_REQUEST_BYTES, inline_script_hashes
from monitoring.servers.inprocess_server import InProcessServer
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS

REBIND = "rebind.example"


def policy(**changes: object) -> HostPolicy:
    return HostPolicy(Settings().replace(**changes))


def test_host_names_are_read_without_port_or_case() -> None:
    assert host_name("LocalHost:8050") == "localhost"
    assert host_name("[::1]:8050") == "::1"
    assert host_name("::1") == "::1"
    assert host_name("voice.example.com.") == "voice.example.com"


def test_localhost_names_and_addresses_are_known_other_names_only_when_configured() -> None:
    default = policy()
    for host in ("localhost:8050", "127.0.0.1:8050", "[::1]:8050", "192.168.1.20:8050",
                 "app.localhost:8050"):
        assert default.host_allowed(host), host
    for host in (f"{REBIND}:8050", REBIND, "", None, "localhost.evil.example"):
        assert not default.host_allowed(host), host
    configured = policy(allowed_hosts="voice.example.com, Other.Example")
    assert configured.host_allowed("voice.example.com") and configured.host_allowed("other.example:443")
    assert not configured.host_allowed(REBIND)
    phone = policy(phone_public_url="https://calls.example.org")
    assert phone.host_allowed("calls.example.org")


def test_an_origin_must_be_the_pages_own_on_a_known_host_or_configured() -> None:
    default = policy()
    assert default.origin_allowed("http://127.0.0.1:8050", "127.0.0.1:8050")
    assert not default.origin_allowed("http://evil.example", "127.0.0.1:8050")
    # The rebinding page: Origin and Host agree, but the name is nobody's we know.
    assert not default.origin_allowed(f"http://{REBIND}:8050", f"{REBIND}:8050")
    assert default.origin_allowed(None, "127.0.0.1:8050")  # clients that are not browsers
    configured = policy(allowed_origins="https://app.example")
    assert configured.origin_allowed("https://app.example/", "127.0.0.1:8050")


def test_inline_scripts_are_hashed_and_json_blocks_are_not() -> None:
    page = (b'<script id="_dash-config" type="application/json">{"a": 1}</script>'
            b'<script src="/x.js"></script><script id="r">var a = 1;</script>')
    expected = base64.b64encode(hashlib.sha256(b"var a = 1;").digest()).decode()
    assert inline_script_hashes(page) == (expected,)


@pytest.fixture
def server() -> Iterator[InProcessServer]:
    settings = Settings().replace(greeting_after_ms=0, db_path="")
    with InProcessServer(settings, Providers(FakeSTT(), FakeLLM(), FakeTTS())) as running:
        yield running


def test_a_rebinding_name_gets_no_page_and_no_socket(server: InProcessServer) -> None:
    own = requests.get(server.http_url + "/", timeout=5)
    assert own.status_code == 200
    rebound = requests.get(server.http_url + "/", headers={"Host": f"{REBIND}:{server.port}"}, timeout=5)
    assert rebound.status_code == 421 and "ALLOWED_HOSTS" in rebound.text
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(server.ws_url, host=f"{REBIND}:{server.port}",
                                    origin=f"http://{REBIND}:{server.port}", timeout=5)
    assert refused.value.status_code == 421
    assert server.monitor.snapshot()["counters"]["refused_host"] == 2
    page = websocket.create_connection(server.ws_url, origin=server.http_url, timeout=5)
    page.close()


def test_every_page_comes_with_a_policy_that_allows_only_its_own_scripts(server: InProcessServer) -> None:
    page = requests.get(server.http_url + "/", timeout=5)
    policy_header = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy_header and "object-src 'none'" in policy_header
    scripts = policy_header.split("script-src ", 1)[1].split(";", 1)[0].split()
    assert scripts[0] == "'self'" and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    hashes = inline_script_hashes(page.content)
    assert hashes and {f"'sha256-{h}'" for h in hashes} == set(scripts[1:])
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    asset = requests.get(server.http_url + "/_dash-layout", timeout=5)
    assert asset.headers["X-Content-Type-Options"] == "nosniff"


def test_a_request_body_over_the_limit_is_refused_unread(server: InProcessServer) -> None:
    response = requests.post(server.http_url + "/_dash-update-component",
                             data=b"x" * (MAX_REQUEST_BYTES + 1),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 413

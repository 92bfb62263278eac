"""An app made for a test (simulated providers, an admin token of its choosing), and what
its router draws for a path, as the page's first callback asks for it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.providers.base import Providers
from core.runtime import VoiceRuntime
from core.settings import Settings
from monitoring.metrics.monitor import PerformanceMonitor
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS


@pytest.fixture
def app_with_token() -> Iterator[Callable[[str], Any]]:
    from app import create_app

    runtimes: list[VoiceRuntime] = []

    def make(token: str) -> Any:
        settings = Settings().replace(admin_token=token, db_path="", greeting_after_ms=0, thinking_cue_ms=0)
        runtimes.append(VoiceRuntime(settings, providers=Providers(FakeSTT(), FakeLLM(), FakeTTS()),
                                     metrics=PerformanceMonitor()))
        return create_app(runtimes[-1])

    yield make
    for made in runtimes:
        made.close()


def routed(app: Any, pathname: str | None, search: str = "", headers: dict[str, str] | None = None,
           part: str = "page-root", cookies: dict[str, str] | None = None) -> str:
    """What the app renders for a path, as the page's first callback gets it (``part``:
    the page, ``theme`` for Ant Design's locale, ``*`` for every output changed)."""
    client = app.server.test_client()
    for name, value in (cookies or {}).items():
        client.set_cookie(name, value)
    response = client.post("/_dash-update-component", headers=headers or {}, json={
        "output": "..page-root.children...theme.locale..",
        "outputs": [{"id": "page-root", "property": "children"}, {"id": "theme", "property": "locale"}],
        "inputs": [{"id": "page-location", "property": "pathname", "value": pathname},
                   {"id": "page-location", "property": "search", "value": search}],
        "changedPropIds": ["page-location.pathname"], "state": []})
    assert response.status_code == 200
    answer = response.get_json()["response"]
    return json.dumps(answer if part == "*" else answer[part], ensure_ascii=False)



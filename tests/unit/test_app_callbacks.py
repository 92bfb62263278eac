"""Every app made in a process serves a page whose controls work: Dash's own global
callback list goes whole to the first app made, so the components declare theirs with
``components.callbacks`` and each app registers them all."""

from __future__ import annotations

from core.providers.base import Providers
from core.runtime import VoiceRuntime
from core.settings import Settings
from monitoring.metrics.monitor import PerformanceMonitor
from tests.support.fakes import FakeLLM, FakeSTT, FakeTTS


def served_callbacks(app) -> set[str]:  # type: ignore[no-untyped-def]
    response = app.server.test_client().get("/_dash-dependencies")
    assert response.status_code == 200
    return {callback["output"] for callback in response.get_json()}


def test_a_second_app_in_the_same_process_gets_every_callback() -> None:
    from app import create_app

    settings = Settings().replace(db_path="", greeting_after_ms=0)
    runtimes = [VoiceRuntime(settings, providers=Providers(FakeSTT(), FakeLLM(), FakeTTS()),
                             metrics=PerformanceMonitor()) for _ in range(2)]
    try:
        first, second = (served_callbacks(create_app(runtime)) for runtime in runtimes)
    finally:
        for runtime in runtimes:
            runtime.close()
    assert any("controls-sink" in output for output in first)  # Start, Stop, Mute
    assert any("admin-cards" in output for output in first)  # the admin page's refresh
    assert second == first

"""The page behind HAProxy: when the process serving its conversation is stopped (a
deploy), the page says so, and its next question goes on in the other process with the
whole conversation and the turn numbers following."""

from __future__ import annotations

import pytest

from tests.browser.page import STATS, open_page
from tests.browser.test_resume import ask
from tests.support.cluster import active_sessions, cluster, cluster_services

pytestmark = pytest.mark.browser
__all__ = ["cluster", "cluster_services"]  # (the fixtures)


def test_a_stopped_process_moves_the_page_to_another(cluster, browser_with_mic) -> None:
    balancer, workers = cluster
    page = open_page(browser_with_mic(), balancer.http_url)
    ask(page, "Tell me about rivers.")
    first = page.evaluate(f"{STATS}.session")
    serving = next(w for w in workers if active_sessions(w) == 1)
    other = next(w for w in workers if w is not serving)
    serving.stop()  # SIGTERM
    page.wait_for_function(f"!{STATS}.connected", timeout=20_000)
    assert "restarting" in page.evaluate(f"{STATS}.problem")["message"]
    ask(page, "And about mountains?")
    assert page.evaluate(f"{STATS}.session") == {"id": first["id"], "resumed": True}
    messages = page.evaluate(f"{STATS}.messages")
    assert [m["text"] for m in messages if m["role"] == "user"] == ["Tell me about rivers.",
                                                                   "And about mountains?"]
    assert sorted({m["turn"] for m in messages}) == [1, 2]  # the numbers went on
    assert active_sessions(other) == 1
    assert not page.console_errors  # type: ignore[attr-defined]

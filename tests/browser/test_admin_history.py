"""The admin page's charts over a longer range, from the history an earlier run of the
server left in the store: picked in the browser, drawn in coarser steps, said so."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.store.backend import MinuteRow
from core.store.conversations import ConversationStore
from core.store.metric_history import MetricHistory
from tests.browser.page import PLOTS_FIT, SCREENSHOTS
from tests.browser.test_admin_page import enter_token, open_admin
from tests.support.simulated_server import simulated_server

pytestmark = pytest.mark.browser
TOKEN = "history-admin-token-0123456789"
# The p50 line of the voice-to-voice chart has the earlier run's figure.
EARLIER_P50 = """() => {
  const graph = document.querySelector('#admin-chart-v2v .js-plotly-plot');
  return graph && graph.data && graph.data[0].y.some((v) => v === 640);
}"""


def earlier_run(db: Path, hours_ago: float) -> None:
    """What a server that ran earlier on this store left of its figures: one busy minute."""
    store = ConversationStore(db)
    history = MetricHistory(store.backend, process="earlier:1")
    minute = (time.time() - hours_ago * 3600) // 60 * 60
    history.record([MinuteRow(minute, "", 12, 1, 2, 30.0, 300 * 2**20, {"tts_first_audio_ms": [640.0] * 12})])
    assert history.flush()
    history.close()
    store.close()


def test_a_longer_range_shows_what_an_earlier_run_left_in_the_store(browser_with_mic, tmp_path: Path) -> None:
    db = tmp_path / "conversations.db"
    earlier_run(db, hours_ago=3)
    with simulated_server(admin_token=TOKEN, db_path=str(db)) as server:
        page = open_admin(browser_with_mic(), server.http_url)
        enter_token(page, TOKEN)
        updated = page.locator("#admin-updated")
        updated.get_by_text("10 s steps over the last hour").wait_for()
        page.locator("#admin-range").get_by_text("6 hours").click()
        updated.get_by_text("5 min steps over the last 6 hours, from the store").wait_for()
        page.wait_for_function(EARLIER_P50)
        page.wait_for_function(PLOTS_FIT)
        page.screenshot(path=str(SCREENSHOTS / "admin-history-wide.png"), full_page=True)
        page.locator("#admin-range").get_by_text("Last hour (live)").click()
        updated.get_by_text("10 s steps over the last hour").wait_for()
        assert not page.console_errors

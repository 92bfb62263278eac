"""The page's scripts are kept by the browser when their address carries their stamp (it
changes with the file), and asked for again when it does not (the audio worklet)."""

from __future__ import annotations

from core.transport.static_cache import FOR_GOOD


def test_stamped_assets_are_kept_for_good_and_the_rest_are_not(app_with_token) -> None:
    client = app_with_token("").server.test_client()
    stamped = client.get("/assets/state.js?m=1796657377.41")
    assert stamped.status_code == 200 and stamped.headers["Cache-Control"] == FOR_GOOD
    worklet = client.get("/assets/worklets/recorder-worklet.js")
    assert worklet.status_code == 200 and worklet.headers.get("Cache-Control") != FOR_GOOD
    page = client.get("/")
    assert page.headers.get("Cache-Control") != FOR_GOOD  # (the page itself names the stamps)
    assert "/assets/state.js?m=" in page.get_data(as_text=True)

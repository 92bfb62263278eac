"""Helpers for driving the voice page in the browser tests."""

from __future__ import annotations

from tests.conftest import ROOT

SCREENSHOTS = ROOT / "docs" / "screenshots"
STATS = "window.VoiceChat.app.stats()"
PLOTS = "#admin-dashboard .js-plotly-plot"
# Every chart drawn at the width of its box (after a resize plotly redraws a moment later).
PLOTS_FIT = f"""() => {{
  const plots = [...document.querySelectorAll({PLOTS!r})];
  return plots.length === 5 && plots.every((p) => {{
    const svg = p.querySelector('.main-svg');
    return svg && Math.abs(svg.getBoundingClientRect().width - p.getBoundingClientRect().width) <= 1;
  }});
}}"""


def open_page(context, url: str):  # type: ignore[no-untyped-def]
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.goto(url + "/?mic=raw")
    # The scripts are ready and the page is drawn (a key pressed before would find no page).
    page.wait_for_function("window.VoiceChat && window.VoiceChat.app && window.dash_clientside.voice"
                           " && document.getElementById('controls-start')")
    page.console_errors = errors  # type: ignore[attr-defined]
    return page


def wait_state(page, state: str, timeout: int = 30_000) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(f"{STATS}.state === {state!r}", timeout=timeout)


def start_listening(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Start the conversation").click()
    wait_state(page, "listening")


def screenshots(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1280, "height": 720})
    page.screenshot(path=str(SCREENSHOTS / f"{name}-wide.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / f"{name}-narrow.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})

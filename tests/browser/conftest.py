from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitoring.clients.browser import launch as launch_chromium
from monitoring.clients.browser import write_mic_wav
from monitoring.clients.voice_client import read_wav_16k_mono


@pytest.fixture
def browser_with_mic(tmp_path: Path) -> Iterator[Callable]:
    from playwright.sync_api import sync_playwright

    contexts = []
    with sync_playwright() as playwright:

        def launch(speech_wav: Path | None = None, allow_microphone: bool = True, enforce_csp: bool = False,
                   **options: object):
            """Chromium whose microphone plays ``speech_wav`` (room noise if None);
            with ``allow_microphone=False`` the page is refused the microphone;
            ``options``: more of ``monitoring.clients.browser.launch``'s."""
            speech = read_wav_16k_mono(speech_wav) if speech_wav else b""
            mic = write_mic_wav(tmp_path / f"mic-{len(contexts)}.wav", speech)
            context = launch_chromium(playwright, tmp_path / f"profile-{len(contexts)}", mic,
                                      allow_microphone, bypass_csp=not enforce_csp, **options)
            context.on("weberror", lambda error: page_errors.append(str(error.error)))
            contexts.append(context)
            return context

        page_errors: list[str] = []
        yield launch
        for context in contexts:
            context.close()
        # Whatever the test checked, an uncaught error in any of its pages fails it.
        assert not page_errors, f"page errors: {page_errors}"

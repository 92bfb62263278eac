"""Both sides of a spoken conversation as one WAV the person downloads: the microphone
on the left, the reply on the right as it sounded here, in their order; a reply cut off
is cut in the file too; New starts the recording afresh."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from tests.browser.page import STATS, open_page, wait_state
from tests.conftest import FIXTURES
from tests.support.simulated_server import simulated_server

pytestmark = pytest.mark.browser
AUDIO_BUTTON = "Download both sides of the conversation as audio (WAV)"
WINDOW = 1_600  # 100 ms at 16 kHz


def download_wav(page) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    with page.expect_download() as download:
        page.get_by_role("button", name=AUDIO_BUTTON).click()
    saved = download.value
    assert saved.suggested_filename.startswith("conversation-") and saved.suggested_filename.endswith(".wav")
    with wave.open(io.BytesIO(saved.path().read_bytes())) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, 16_000, 2)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2).astype(float)
    return samples[:, 0], samples[:, 1]


def loud_windows(channel: np.ndarray) -> np.ndarray:
    """The 100 ms windows (their index) where the channel is clearly not silence."""
    windows = channel[: len(channel) // WINDOW * WINDOW].reshape(-1, WINDOW)
    return np.flatnonzero(np.sqrt((windows**2).mean(axis=1)) > 300)


def test_the_conversations_audio_holds_both_sides_in_their_order(browser_with_mic) -> None:
    with simulated_server() as server:
        page = open_page(browser_with_mic(FIXTURES / "question_1.wav"), server.http_url)
        page.get_by_role("button", name=AUDIO_BUTTON).click()
        page.wait_for_function(f"{STATS}.problem && {STATS}.problem.message === 'No audio to download yet.'")
        page.get_by_role("button", name="Start the conversation").click()
        wait_state(page, "listening")
        page.wait_for_function(f"{STATS}.messages.some(m => m.role === 'assistant' && m.text)",
                               timeout=30_000)
        page.wait_for_function(f"!window.VoiceChat.app.player.playing && {STATS}.state === 'listening'",
                               timeout=30_000)
        you, assistant = download_wav(page)
        spoke, answered = loud_windows(you), loud_windows(assistant)
        assert len(spoke) >= 5, "the question is on the left"
        assert len(answered) >= 5, "the reply is on the right"
        assert answered[0] > spoke[0], "the reply follows the question"
        assert np.abs(assistant[: spoke[0] * WINDOW]).max() == 0  # (nothing on the right before it)

        page.get_by_role("button", name="Start a new conversation").click()
        page.wait_for_function(f"{STATS}.messages.length === 0")
        page.get_by_role("button", name=AUDIO_BUTTON).click()
        page.wait_for_function(f"{STATS}.problem && {STATS}.problem.message === 'No audio to download yet.'")


def test_a_reply_cut_off_is_cut_in_the_file_too(browser_with_mic) -> None:
    with simulated_server() as server:
        page = open_page(browser_with_mic(), server.http_url)
        box = page.get_by_label("Message to the assistant")
        box.fill("Tell me a long story about the sea.")
        box.press("Enter")
        # Half a second into the reply's sound, it is stopped.
        page.wait_for_function("(() => { const r = window.VoiceChat.app.recording.reply;"
                               " return r.length && performance.now() > r[0].at + 500; })()", timeout=30_000)
        page.get_by_role("button", name="Stop the reply").click()
        page.wait_for_function(f"{STATS}.messages.some(m => m.role === 'assistant' && m.cut)", timeout=10_000)
        scheduled = page.evaluate(f"{STATS}.player.scheduledSeconds")  # sent and scheduled, heard or not
        _, assistant = download_wav(page)
        heard_s = len(loud_windows(assistant)) * WINDOW / 16_000
        assert 0.3 <= heard_s < scheduled - 0.2, (heard_s, scheduled)  # what was not heard is not in it

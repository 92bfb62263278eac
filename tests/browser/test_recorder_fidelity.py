"""What the page sends is what the microphone heard, resampled to 16 kHz."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.clients.voice_client import read_wav_16k_mono
from tests.conftest import FIXTURES

pytestmark = pytest.mark.browser

# Keep the frames instead of sending them: the server's speech work would compete with
# the browser's audio thread for the two cores and make the comparison measure the load.
CAPTURE = """() => {
  window.__sentFrames = [];
  window.VoiceChat.Connection.prototype.sendAudio = function (frame) {
    window.__sentFrames.push(Array.from(frame));
  };
}"""


def fractional_shift(signal: np.ndarray, delay: float) -> np.ndarray:
    """The signal delayed by a fraction of a sample (band-limited, through the FFT)."""
    spectrum = np.fft.rfft(signal)
    bins = np.arange(len(spectrum))
    return np.fft.irfft(spectrum * np.exp(-2j * np.pi * bins * delay / len(signal)), len(signal))


def window_snrs(recorded: np.ndarray, original: np.ndarray, window: int = 4000) -> list[tuple[float, float]]:
    """(gain, SNR dB) per 0.25 s of the speech, each window aligned on its own.

    Aligning each window separately keeps one glitch of the fake capture device (a
    dropped block shifts everything after it) from spoiling the whole comparison. The
    browser's 16 kHz grid can sit a fraction of a sample off the file's grid (it
    resamples from its device rate), so each window also gets the best fractional
    delay: a delay is not distortion.
    """
    coarse = int(np.argmax(np.correlate(recorded, original[2000:6000], "valid"))) - 2000
    delayed = [fractional_shift(original, delay) for delay in np.arange(-0.5, 0.5, 0.125)]
    results = []
    for start in range(0, len(original) - window, window):
        if np.sqrt(np.mean(original[start : start + window] ** 2)) < 300:  # a pause: nothing to compare
            continue
        low = max(0, coarse + start - 400)
        region = recorded[low : coarse + start + window + 400]
        best: tuple[float, float] | None = None
        for candidate in delayed:
            reference = candidate[start : start + window]
            lag = int(np.argmax(np.correlate(region, reference, "valid")))
            aligned = region[lag : lag + window]
            gain = float(np.dot(aligned, reference) / np.dot(reference, reference))
            error = aligned - gain * reference
            snr = float(10 * np.log10(np.sum((gain * reference) ** 2) / np.sum(error**2)))
            if best is None or snr > best[1]:
                best = (gain, snr)
        assert best is not None
        results.append(best)
    return results


def test_recorder_frames_match_the_microphone_signal(live_server, browser_with_mic) -> None:
    speech = FIXTURES / "question_1.wav"
    context = browser_with_mic(speech)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(live_server.http_url + "/?mic=raw")
    page.evaluate(CAPTURE)
    page.get_by_role("button", name="Start the conversation").click()
    seconds_needed = 1.5 + 2.1 + 1.0  # lead-in, the question, a second of room noise
    page.wait_for_function(f"window.__sentFrames.length >= {int(seconds_needed * 50)}", timeout=20_000)
    frames = page.evaluate("window.__sentFrames")
    assert all(len(frame) == 320 for frame in frames)  # 20 ms at 16 kHz
    recorded = np.concatenate([np.asarray(f, dtype=np.float32) for f in frames])
    original = np.frombuffer(read_wav_16k_mono(speech), dtype="<i2").astype(np.float32)
    windows = window_snrs(recorded, original)
    assert len(windows) >= 4
    gains, snrs = zip(*windows, strict=True)
    assert 0.9 < float(np.median(gains)) < 1.1
    assert float(np.median(snrs)) > 20.0

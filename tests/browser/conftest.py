from __future__ import annotations

import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from monitoring.voice_client import read_wav_16k_mono

CHROMIUM = "/usr/bin/chromium"


def write_mic_wav(path: Path, speech: bytes, lead_s: float = 1.5, tail_s: float = 8.0) -> Path:
    """The fake microphone's file: quiet room, the speech, then quiet room again."""
    rng = np.random.default_rng(0)

    def room(seconds: float) -> bytes:
        return rng.normal(0, 20, int(16000 * seconds)).astype("<i2").tobytes()

    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(room(lead_s) + speech + room(tail_s))
    return path


@pytest.fixture
def browser_with_mic(tmp_path: Path) -> Iterator[Callable]:
    from playwright.sync_api import sync_playwright

    contexts = []
    with sync_playwright() as playwright:

        def launch(speech_wav: Path | None = None, allow_microphone: bool = True):
            """Chromium whose microphone plays ``speech_wav`` (room noise if None);
            with ``allow_microphone=False`` the page is refused the microphone."""
            speech = read_wav_16k_mono(speech_wav) if speech_wav else b""
            mic = write_mic_wav(tmp_path / f"mic-{len(contexts)}.wav", speech)
            permission = ("--use-fake-ui-for-media-stream" if allow_microphone
                          else "--deny-permission-prompts")
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / f"profile-{len(contexts)}"),
                executable_path=CHROMIUM,
                headless=True,
                ignore_default_args=["--mute-audio"],
                args=[
                    permission,
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-audio-capture={mic}%noloop",
                    "--autoplay-policy=no-user-gesture-required",
                    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync",
                ],
            )
            contexts.append(context)
            return context

        yield launch
        for context in contexts:
            context.close()

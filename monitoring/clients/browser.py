"""Headless Chromium with a WAV file as its microphone (Debian's chromium, no download).

Shared by the browser tests and the page benchmark; the flags are the ones that work on
these machines (see the team's notes on browser audio).
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

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


def chromium_args(mic_wav: Path, allow_microphone: bool = True) -> list[str]:
    permission = "--use-fake-ui-for-media-stream" if allow_microphone else "--deny-permission-prompts"
    return [
        permission,
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic_wav}%noloop",
        "--autoplay-policy=no-user-gesture-required",
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ]


def launch(playwright, profile_dir: Path, mic_wav: Path, allow_microphone: bool = True,  # type: ignore[no-untyped-def]
           bypass_csp: bool = True, resolve: dict[str, str] | None = None, self_signed_ok: bool = False,
           color_scheme: str = "light", locale: str | None = None):
    """``bypass_csp``: Playwright's ``wait_for_function`` evaluates its predicate with
    ``eval``, which the page's Content-Security-Policy forbids; one browser test runs
    with the policy enforced and waits another way. ``resolve``: host names the browser
    maps to addresses (a public-looking name on this machine); ``self_signed_ok``: a
    test certificate is accepted; ``color_scheme``: what the system asks for ("light", "dark");
    ``locale``: the browser's language (its Accept-Language and navigator.language)."""
    rules = ",".join(f"MAP {name} {address}" for name, address in (resolve or {}).items())
    return playwright.chromium.launch_persistent_context(
        str(profile_dir),
        bypass_csp=bypass_csp,
        executable_path=CHROMIUM,
        headless=True,
        ignore_default_args=["--mute-audio"],
        ignore_https_errors=self_signed_ok,
        color_scheme=color_scheme,
        **({"locale": locale} if locale else {}),
        args=chromium_args(mic_wav, allow_microphone) + ([f"--host-resolver-rules={rules}"] if rules else []),
    )

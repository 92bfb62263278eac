"""The server's own CPU per audio frame: one Session, simulated providers, no socket.

    python -m monitoring.bench.frame_cost [--quiet-frames N] [--rounds N] [--profile]

Feeds one listening session 20 ms frames of low noise (below the energy gate: the
speech model rests) and then the Beckett recording (real speech: webrtcvad, the
Silero model, the segmenter and the turn engine all work), and prints the time per
``Session.audio`` call in microseconds, the best of ``--rounds`` runs. Providers
are simulated, so the figure is the session's own cost, not a model's. ``--profile``
adds a cProfile of one more pass, sorted by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Sequence

import numpy as np

from core.conversation.events import OutputEvent
from core.providers.base import Providers
from core.providers.catalog import ProviderCatalog
from core.providers.simulated import SimulatedLLM, SimulatedSTT, SimulatedTTS
from core.runtime import engine_config
from core.session.model_workers import ModelWorkers
from core.session.services import SessionServices
from core.session.session import Session
from core.settings import Settings
from monitoring.clients.voice_client import frames_of, read_wav_16k_mono
from monitoring.metrics.monitor import PerformanceMonitor
from monitoring.servers.server_process import ROOT

SPEECH_WAV = ROOT / "tests" / "fixtures" / "beckett.wav"
NOISE_FRAMES = 500  # distinct quiet frames, cycled
CLIENT_FRAME_SAMPLES = 320  # 20 ms at 16 kHz, as the page sends


def quiet_frames(count: int = NOISE_FRAMES, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 20, CLIENT_FRAME_SAMPLES).astype("<i2").tobytes() for _ in range(count)]


class KeptEvents:
    """The session's output, kept (no socket: the figure is the session's own work)."""

    def __init__(self) -> None:
        self.events: list[OutputEvent] = []

    def deliver(self, event: OutputEvent) -> None:
        self.events.append(event)


def new_session(sent: KeptEvents) -> tuple[Session, ModelWorkers]:
    settings = Settings(greeting_after_ms=0, db_path="")
    catalog = ProviderCatalog(settings, None, Providers(SimulatedSTT(), SimulatedLLM(), SimulatedTTS()))
    workers = ModelWorkers(4, 16)
    services = SessionServices(workers, catalog, PerformanceMonitor(), engine_config(settings, None), None)
    session = Session("frame-cost", settings, services, sent)
    session.start_listening()
    return session, workers


def us_per_frame(session: Session, frames: Sequence[bytes], count: int) -> float:
    handle = session.audio
    n = len(frames)
    started = time.perf_counter()
    for i in range(count):
        handle(frames[i % n])
    return (time.perf_counter() - started) / count * 1e6


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet-frames", type=int, default=5000, help="quiet frames per round")
    parser.add_argument("--rounds", type=int, default=9, help="rounds; the best is printed")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile")
    args = parser.parse_args(argv)
    noise = quiet_frames()
    speech = frames_of(read_wav_16k_mono(SPEECH_WAV))
    sent = KeptEvents()
    session, workers = new_session(sent)
    try:
        quiet_us = min(us_per_frame(session, noise, args.quiet_frames) for _ in range(args.rounds))
        speech_us = min(us_per_frame(session, speech, len(speech)) for _ in range(args.rounds))
        print(f"quiet frame   {quiet_us:7.1f} us  ({args.quiet_frames} frames, best of {args.rounds})")
        print(f"speech frame  {speech_us:7.1f} us  ({len(speech)} frames of {SPEECH_WAV.name}, "
              f"best of {args.rounds})")
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            us_per_frame(session, noise, args.quiet_frames)
            us_per_frame(session, speech, len(speech))
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(20)
    finally:
        session.close()
        workers.shutdown()


if __name__ == "__main__":
    main()

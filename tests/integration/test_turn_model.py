"""The end-of-turn model (Smart Turn v3.2, taken out of pipecat-ai's wheel by the setup)
on real human speech: the ends of spoken phrases sound finished, the same phrases cut
halfway sound less so. (Synthetic espeak speech is no material for this model: its flat
questions sound unfinished; the turn logic combines the model with the words.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from core.audio.turn_model import TurnModel
from core.providers.embedded.model_files import SMART_TURN, turn_model_file
from core.settings import Settings
from monitoring.bench.clips import phrases
from monitoring.clients.voice_client import read_wav_16k_mono
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def model_path() -> Path:
    path = turn_model_file(Settings().model_path)
    assert path is not None, "the turn model is missing: `make setup` takes it out of pipecat-ai's wheel"
    return path


def test_the_file_is_the_one_pinned(model_path: Path) -> None:
    assert hashlib.sha256(model_path.read_bytes()).hexdigest() == SMART_TURN.sha256
    assert "BSD 2-Clause" in model_path.with_suffix(".LICENSE").read_text()


def test_short_speech_is_heard_at_the_end_of_its_window(model_path: Path) -> None:
    model = TurnModel(model_path)
    speech = np.frombuffer(read_wav_16k_mono(FIXTURES / "beckett.wav"), np.int16)[:16000]
    features = model.features(speech)
    assert features.shape == (80, 800) and features.dtype == np.float32
    assert features[:, :600].std() < 0.01 < features[:, -100:].std()  # zeros in front, speech last


def test_phrase_ends_sound_finished_and_halfway_cuts_less(model_path: Path) -> None:
    model = TurnModel(model_path)
    spoken = [np.frombuffer(p, np.int16) for p in phrases(read_wav_16k_mono(FIXTURES / "beckett.wav"))]
    assert len(spoken) == 6
    ends = [model.finished(p) for p in spoken]
    halfway = [model.finished(p[: len(p) // 2]) for p in spoken]
    assert all(0.0 <= p <= 1.0 for p in ends + halfway)
    assert np.mean(ends) > 0.7, ends
    assert np.mean(ends) - np.mean(halfway) > 0.2, (ends, halfway)


def test_the_process_judge_hears_a_finished_phrase_and_stays_bounded(model_path: Path) -> None:
    """The pool every session shares: a verdict comes back through the callback; a session
    that already has its share in flight is refused at once, not queued."""
    import threading

    from core.session.end_judge import PER_SESSION, EndJudge
    from core.session.workers import Overloaded

    judge = EndJudge.load(model_path)
    try:
        phrase = phrases(read_wav_16k_mono(FIXTURES / "beckett.wav"))[1]
        verdicts: list[float | None] = []
        heard = threading.Event()
        release = threading.Event()

        def first(p: float | None) -> None:
            verdicts.append(p)
            heard.set()
            release.wait(10)  # keeps this job running while the share fills up

        judge.judge(phrase, first, owner="s1")
        assert heard.wait(10)
        for _ in range(PER_SESSION - 1):
            judge.judge(phrase, verdicts.append, owner="s1")
        with pytest.raises(Overloaded):
            judge.judge(phrase, verdicts.append, owner="s1")
        release.set()
        assert verdicts[0] is not None and verdicts[0] >= 0.5
    finally:
        judge.shutdown()

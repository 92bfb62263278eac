"""The load tester's command line: defaults, bad arguments (exit 2), bad audio (exit 2
with the file named), an unreachable server (exit 1)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from monitoring.clients.voice_client import FRAME_BYTES, is_voiced
from monitoring.loadtest.audio import AudioError, QuietFrames, load_clip, load_clips
from monitoring.loadtest.config import DEFAULT_URL, ConfigError, LoadConfig, check_config, parse_config
from monitoring.loadtest.run import main, time_bound_s
from monitoring.servers.server_process import free_port
from tests.conftest import FIXTURES


def write_wav(path: Path, samples: np.ndarray, rate: int = 16_000, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2" if width == 2 else "u1").tobytes())
    return path


def tone(seconds: float, amplitude: float = 3000.0) -> np.ndarray:
    t = np.arange(int(16_000 * seconds)) / 16_000
    return amplitude * np.sin(2 * np.pi * 220 * t)


def test_defaults_are_ten_sessions_of_three_questions_from_the_fixtures(monkeypatch) -> None:
    monkeypatch.delenv("VOICECHAT_ADMIN_TOKEN", raising=False)
    config, progress = parse_config([])
    assert (config.url, config.sessions, config.turns, config.ramp_up_s) == (DEFAULT_URL, 10, 3, 5.0)
    assert (config.turn_timeout_s, config.think_ms, config.barge_in_every, config.seed) == (15.0, 1000, 0, 0)
    assert [p.name for p in config.audio] == [f"question_{i}.wav" for i in range(1, 7)]
    assert config.admin_token == "" and progress and not config.fail_on_errors


def test_the_admin_token_comes_from_the_environment_unless_given(monkeypatch) -> None:
    monkeypatch.setenv("VOICECHAT_ADMIN_TOKEN", "from-env")
    assert parse_config([])[0].admin_token == "from-env"
    assert parse_config(["--admin-token", "given"])[0].admin_token == "given"


def test_every_option_is_read(tmp_path) -> None:
    config, progress = parse_config([
        "--url", "ws://10.0.0.5:9000/ws/voice", "--sessions", "200", "--turns", "5", "--ramp-up", "30",
        "--audio", str(FIXTURES / "question_1.wav"), str(FIXTURES / "question_2.wav"),
        "--out", str(tmp_path / "r.json"), "--plot", str(tmp_path / "r.png"), "--barge-in-every", "3",
        "--turn-timeout", "20", "--think-ms", "500", "--seed", "7", "--fail-on-errors", "--quiet",
        "--max-p95-ms", "1500", "--max-failed", "3", "--csv", str(tmp_path / "t.csv"),
        "--junit", str(tmp_path / "j.xml")])
    assert (config.sessions, config.turns, config.ramp_up_s, config.barge_in_every) == (200, 5, 30.0, 3)
    assert (config.turn_timeout_s, config.think_ms, config.seed) == (20.0, 500, 7)
    assert len(config.audio) == 2 and config.out == tmp_path / "r.json" and config.plot == tmp_path / "r.png"
    assert config.fail_on_errors and not progress
    assert (config.max_p95_ms, config.max_failed) == (1500.0, 3)
    assert config.csv == tmp_path / "t.csv" and config.junit == tmp_path / "j.xml"


@pytest.mark.parametrize("argv, words", [
    (["--sessions", "0"], "--sessions"),
    (["--turns", "0"], "--turns"),
    (["--ramp-up", "-1"], "--ramp-up"),
    (["--turn-timeout", "0"], "--turn-timeout"),
    (["--think-ms", "-5"], "--think-ms"),
    (["--barge-in-every", "-1"], "--barge-in-every"),
    (["--url", "http://127.0.0.1:8050/ws/voice"], "--url"),
    (["--url", "ws://127.0.0.1:99999/ws/voice"], "port"),
    (["--sessions", "many"], "invalid int"),
    (["--out", "/no/such/folder/r.json"], "--out"),
    (["--plot", "/no/such/folder/r.png"], "--plot"),
    (["--csv", "/no/such/folder/t.csv"], "--csv"),
    (["--junit", "/no/such/folder/j.xml"], "--junit"),
    (["--max-p95-ms", "0"], "--max-p95-ms"),
    (["--max-failed", "-1"], "--max-failed"),
])
def test_bad_arguments_exit_with_2_and_say_which(argv, words, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert words in capsys.readouterr().err


def test_check_config_names_the_first_problem() -> None:
    with pytest.raises(ConfigError, match="no audio"):
        check_config(LoadConfig(audio=()))
    check_config(LoadConfig())


def test_a_question_is_cut_into_frames_with_its_voiced_stretch_found() -> None:
    clip = load_clip(FIXTURES / "question_1.wav")
    assert all(len(frame) == FRAME_BYTES for frame in clip.frames)
    assert is_voiced(clip.frames[clip.first_voiced]) and is_voiced(clip.frames[clip.last_voiced])
    assert not any(is_voiced(f) for f in clip.frames[: clip.first_voiced])
    assert not any(is_voiced(f) for f in clip.frames[clip.last_voiced + 1 :])
    assert 1.5 < clip.seconds < 3.0


def test_quiet_frames_are_room_noise_made_once() -> None:
    quiet = QuietFrames(seed=3)
    assert quiet.frame(5) is quiet.frame(5 + 64)
    assert not any(is_voiced(quiet.frame(i)) for i in range(64))
    assert QuietFrames(seed=3).frame(1) == quiet.frame(1)


@pytest.mark.parametrize("make, words", [
    (lambda d: write_wav(d / "stereo.wav", np.repeat(tone(1), 2), channels=2), "16 kHz mono PCM16"),
    (lambda d: write_wav(d / "phone.wav", tone(1)[::2], rate=8000), "16 kHz mono PCM16"),
    (lambda d: write_wav(d / "eight_bit.wav", tone(1, 100) + 128, width=1), "16 kHz mono PCM16"),
    (lambda d: write_wav(d / "silence.wav", tone(1, 20)), "no speech"),
    (lambda d: (d / "notes.wav").write_text("not audio") and d / "notes.wav", "not a readable WAV"),
    (lambda d: d / "missing.wav", "no such file"),
])
def test_a_bad_audio_file_is_named_with_the_reason(tmp_path, make, words) -> None:
    path = make(tmp_path)
    with pytest.raises(AudioError, match=words) as raised:
        load_clips([FIXTURES / "question_1.wav", path])
    assert path.name in str(raised.value)


def test_bad_audio_on_the_command_line_exits_with_2(tmp_path, capsys) -> None:
    bad = write_wav(tmp_path / "stereo.wav", np.repeat(tone(1), 2), channels=2)
    assert main(["--audio", str(bad), "--quiet", "--url", f"ws://127.0.0.1:{free_port()}/ws/voice"]) == 2
    assert "stereo.wav" in capsys.readouterr().err


def test_an_unreachable_server_exits_with_1_and_says_so(capsys) -> None:
    port = free_port()  # nothing listens there
    assert main(["--url", f"ws://127.0.0.1:{port}/ws/voice", "--quiet", "--sessions", "2"]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach 127.0.0.1:{port}" in err and "is the server running?" in err


def test_the_run_is_bounded_by_its_parameters() -> None:
    short = time_bound_s(LoadConfig(sessions=10, turns=1), longest_clip_s=3.0)
    longer = time_bound_s(LoadConfig(sessions=10, turns=4), longest_clip_s=3.0)
    assert short < longer < short + 4 * (3.0 + 2 * 15.0 + 1.0)


def test_a_duration_replaces_the_turns_and_an_arrival_rate_makes_the_sessions() -> None:
    closed, _ = parse_config(["--duration", "60", "--sessions", "5"])
    assert (closed.duration_s, closed.sessions, closed.planned_turns) == (60.0, 5, None)
    opened, _ = parse_config(["--duration", "30", "--arrival-rate", "0.5", "--turns", "2"])
    # 15 sessions arriving evenly over the 30 s, each asking 2 questions and leaving.
    assert (opened.sessions, opened.ramp_up_s, opened.duration_s) == (15, 30.0, None)
    assert opened.planned_turns == 30
    assert opened.arrival_rate == 0.5


@pytest.mark.parametrize("argv, words", [
    (["--arrival-rate", "2"], "--arrival-rate needs --duration"),
    (["--duration", "10", "--arrival-rate", "0"], "must be > 0"),
    (["--duration", "0"], "--duration"),
])
def test_bad_duration_or_arrival_rate_exit_with_2(argv, words, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert words in capsys.readouterr().err

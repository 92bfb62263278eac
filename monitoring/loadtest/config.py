"""The load tester's parameters: the command line, its defaults and its checks."""

from __future__ import annotations

import argparse
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from monitoring.servers.server_process import ROOT

DEFAULT_URL = "ws://127.0.0.1:8050/ws/voice"
TOKEN_ENV = "VOICECHAT_ADMIN_TOKEN"
MAX_SESSIONS = 5000  # far past what one process can drive; a typo guard, not a capacity
USAGE_EXAMPLE = ("example: python -m monitoring.loadtest --url ws://127.0.0.1:8050/ws/voice "
                 "--sessions 50 --turns 3 --ramp-up 10 --out results.json --plot results.png")


def default_audio() -> list[Path]:
    """The real-sounding questions the tests use (16 kHz mono PCM16): tests/fixtures in a
    checkout, the installed copy (voicechat_loadtest_audio) otherwise; none if neither."""
    beside = sorted((ROOT / "tests" / "fixtures").glob("question_*.wav"))
    if beside:
        return beside
    spec = importlib.util.find_spec("voicechat_loadtest_audio")  # a folder of files, not a module
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    return sorted(p for folder in folders for p in Path(folder).glob("question_*.wav"))


class ConfigError(ValueError):
    """A parameter that cannot work; the command line exits with 2."""


@dataclass(frozen=True)
class LoadConfig:
    url: str = DEFAULT_URL
    sessions: int = 10
    turns: int = 3
    ramp_up_s: float = 5.0
    audio: tuple[Path, ...] = field(default_factory=lambda: tuple(default_audio()))
    admin_token: str = ""
    out: Path | None = None
    plot: Path | None = None
    barge_in_every: int = 0  # every K-th turn is talked over as soon as its reply is heard (0: never)
    turn_timeout_s: float = 15.0
    think_ms: int = 1000
    seed: int = 0
    fail_on_errors: bool = False
    connect_timeout_s: float = 10.0
    max_p95_ms: float | None = None  # exit 1 when the voice-to-voice p95 is over it
    max_failed: int | None = None  # exit 1 when more turns and sessions failed or were refused
    csv: Path | None = None  # every turn, one row each
    junit: Path | None = None  # the checks as a JUnit XML test suite
    # --duration: the sessions keep asking until then (a closed model: --turns is not used)
    duration_s: float | None = None
    arrival_rate: float | None = None  # (recorded) sessions a second arriving over --duration

    @property
    def planned_turns(self) -> int | None:
        """None: as many as fit in --duration."""
        return None if self.duration_s is not None else self.sessions * self.turns


def check_config(config: LoadConfig) -> None:
    """Raise ConfigError naming the first parameter that cannot work."""
    parts = urlsplit(config.url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ConfigError(f"--url must be ws://HOST:PORT/PATH or wss://..., not {config.url!r}")
    try:
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError as exc:
        raise ConfigError(f"--url has a bad port: {config.url!r}") from exc
    if not 1 <= config.sessions <= MAX_SESSIONS:
        raise ConfigError(f"--sessions must be 1..{MAX_SESSIONS}, not {config.sessions}")
    if config.turns < 1:
        raise ConfigError(f"--turns must be at least 1, not {config.turns}")
    if config.ramp_up_s < 0:
        raise ConfigError(f"--ramp-up must be >= 0 seconds, not {config.ramp_up_s}")
    if config.turn_timeout_s <= 0:
        raise ConfigError(f"--turn-timeout must be > 0 seconds, not {config.turn_timeout_s}")
    if config.think_ms < 0:
        raise ConfigError(f"--think-ms must be >= 0, not {config.think_ms}")
    if config.barge_in_every < 0:
        raise ConfigError(f"--barge-in-every must be >= 0 (0: never), not {config.barge_in_every}")
    if not config.audio:
        raise ConfigError("no audio: give --audio FILE... (16 kHz mono PCM16 WAV)")
    if config.duration_s is not None and config.duration_s <= 0:
        raise ConfigError(f"--duration must be > 0 seconds, not {config.duration_s}")
    if config.max_p95_ms is not None and config.max_p95_ms <= 0:
        raise ConfigError(f"--max-p95-ms must be > 0, not {config.max_p95_ms}")
    if config.max_failed is not None and config.max_failed < 0:
        raise ConfigError(f"--max-failed must be >= 0, not {config.max_failed}")
    for option, path in (("--out", config.out), ("--plot", config.plot), ("--csv", config.csv),
                         ("--junit", config.junit)):
        if path is not None and not path.parent.resolve().is_dir():
            raise ConfigError(f"{option}: folder {path.parent} does not exist")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m monitoring.loadtest",
        description="Open many concurrent voice sessions against a running server, speak real "
                    "questions at real-time pace, and report voice-to-voice latency, failures, "
                    "barge-in reaction and the server's CPU and memory.",
        epilog=USAGE_EXAMPLE)
    defaults = LoadConfig(audio=())
    parser.add_argument("--url", default=defaults.url, help=f"WebSocket URL (default {defaults.url})")
    parser.add_argument("--sessions", type=int, default=defaults.sessions,
                        help="concurrent sessions (default %(default)s)")
    parser.add_argument("--turns", type=int, default=defaults.turns,
                        help="questions each session asks (default %(default)s)")
    parser.add_argument("--ramp-up", type=float, default=defaults.ramp_up_s, metavar="SECONDS",
                        help="sessions start evenly over this time (default %(default)s)")
    parser.add_argument("--audio", type=Path, nargs="+", metavar="WAV",
                        help="16 kHz mono PCM16 WAV files, one per question in turn "
                             "(default tests/fixtures/question_*.wav)")
    parser.add_argument("--admin-token", default=None,
                        help=f"admin token for the server's /metrics.json (default ${TOKEN_ENV})")
    parser.add_argument("--out", type=Path, help="write the results as JSON here (with every turn)")
    parser.add_argument("--plot", type=Path, help="draw the results into this PNG")
    parser.add_argument("--barge-in-every", type=int, default=defaults.barge_in_every, metavar="K",
                        help="talk over every K-th reply as soon as it is heard (default 0: never)")
    parser.add_argument("--turn-timeout", type=float, default=defaults.turn_timeout_s, metavar="SECONDS",
                        help="a reply not finished this long after the question fails (default %(default)s)")
    parser.add_argument("--think-ms", type=int, default=defaults.think_ms,
                        help="room noise between a reply and the next question (default %(default)s)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the room noise")
    parser.add_argument("--duration", type=float, metavar="SECONDS",
                        help="run this long: each session keeps asking questions until then (instead "
                             "of --turns); with --arrival-rate, the time over which sessions arrive")
    parser.add_argument("--arrival-rate", type=float, metavar="PER_SECOND",
                        help="new sessions a second, evenly spaced over --duration, each asking --turns "
                             "questions and leaving (an open model, instead of --sessions)")
    parser.add_argument("--csv", type=Path, help="write every turn as a row of this CSV file")
    parser.add_argument("--junit", type=Path, help="write the checks as a JUnit XML test suite (for CI)")
    parser.add_argument("--fail-on-errors", action="store_true",
                        help="exit 1 if any turn or session failed (for CI)")
    parser.add_argument("--max-p95-ms", type=float, metavar="MS",
                        help="exit 1 if the voice-to-voice p95 is over MS (or no turn was answered)")
    parser.add_argument("--max-failed", type=int, metavar="N",
                        help="exit 1 if more than N turns and sessions failed, never ran or were refused")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    return parser


def parse_config(argv: list[str] | None = None) -> tuple[LoadConfig, bool]:
    """The config and whether to show progress; exits with 2 (argparse) on bad arguments."""
    parser = build_parser()
    args = parser.parse_args(argv)
    token = args.admin_token if args.admin_token is not None else os.environ.get(TOKEN_ENV, "")
    sessions, ramp_up, duration = args.sessions, args.ramp_up, args.duration
    if args.arrival_rate is not None:  # an open model: arrivals over the duration, each asks --turns
        if duration is None or args.arrival_rate <= 0:
            parser.error("--arrival-rate needs --duration, and must be > 0")
        sessions, ramp_up, duration = max(1, round(args.arrival_rate * duration)), duration, None
    config = LoadConfig(
        url=args.url, sessions=sessions, turns=args.turns, ramp_up_s=ramp_up,
        audio=tuple(args.audio) if args.audio else tuple(default_audio()), admin_token=token,
        out=args.out, plot=args.plot, barge_in_every=args.barge_in_every,
        turn_timeout_s=args.turn_timeout, think_ms=args.think_ms, seed=args.seed,
        fail_on_errors=args.fail_on_errors, max_p95_ms=args.max_p95_ms, max_failed=args.max_failed,
        csv=args.csv, junit=args.junit, duration_s=duration, arrival_rate=args.arrival_rate)
    try:
        check_config(config)
    except ConfigError as exc:
        parser.error(str(exc))
    return config, not args.quiet

"""The app with simulated providers, sized for a load test: ``make serve-simulated``.

QA measures the server's own capacity (sockets, segmentation, turn logic, delivery)
apart from model cost: speech recognition, replies and voice are answered by
``core.providers.simulated`` after cloud-like delays. Limits are raised so that
hundreds of sessions from one address are admitted. Any ``VOICECHAT_`` variable set
in the environment wins over these defaults. Never a way to serve people: the
simulated assistant says nothing useful.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

SIMULATED_ENV: dict[str, str] = {
    "VOICECHAT_STT_PROVIDER": "simulated",
    "VOICECHAT_LLM_PROVIDER": "simulated",
    "VOICECHAT_TTS_PROVIDER": "simulated",
    "VOICECHAT_MAX_SESSIONS": "1000",
    "VOICECHAT_MAX_SESSIONS_PER_ADDRESS": "0",  # the load tester is one address
    "VOICECHAT_ADDRESS_TURNS_PER_MINUTE": "0",
    "VOICECHAT_ADDRESS_REPLY_TOKENS_PER_MINUTE": "0",
    "VOICECHAT_THREADS": "1100",  # a server thread per open socket
    "VOICECHAT_TURN_WORKERS": "128",  # remote-like providers answer many calls at once
    "VOICECHAT_TURN_BACKLOG": "512",
    "VOICECHAT_GREETING_AFTER_MS": "0",  # the tester decides when to speak
    "VOICECHAT_THINKING_CUE_MS": "0",  # a cue is not an answer
    # Simulated words come from a small vocabulary: two different questions may sound
    # alike to it, and the repeat filter would leave the second unanswered.
    "VOICECHAT_DEDUP_WINDOW_MS": "0",
    # The store is part of the server's work, but not the person's own conversations.
    "VOICECHAT_DB_PATH": "~/.cache/voicechat/loadtest.db",
}


def simulated_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the load-test defaults added."""
    env = dict(os.environ if base is None else base)
    for name, value in SIMULATED_ENV.items():
        env.setdefault(name, value)
    return env


def main() -> None:
    os.environ.update(simulated_env())
    from app import main as serve

    serve()


if __name__ == "__main__":
    main()

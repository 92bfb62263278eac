"""Kill the server (SIGKILL) in the middle of a reply and start it again: every turn the
client saw finalized before the kill is in the conversation store."""

from __future__ import annotations

from pathlib import Path

from monitoring.clients.voice_client import VoiceClient
from monitoring.servers.server_process import ServerProcess
from monitoring.soak.sigkill import QUESTIONS, converse_then_kill, lost_after_kill


def test_finalized_turns_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "turns.db"
    env = {"VOICECHAT_DB_PATH": str(db), "VOICECHAT_GREETING_AFTER_MS": "0"}
    server = ServerProcess(env=env, log_path=tmp_path / "server.log").start()
    try:
        session_id, seen = converse_then_kill(server)
    finally:
        server.stop()
    assert len(seen) >= 2 * len(QUESTIONS) + 1  # three exchanges and the last question

    restarted = ServerProcess(env=env, log_path=tmp_path / "server2.log").start()
    try:
        assert lost_after_kill(db, session_id, seen) == 0
        again = VoiceClient(restarted.ws_url)  # and the restarted server serves as before
        again.start()
        again.send_json({"type": "text", "text": "Hello again."})
        assert again.wait_for(lambda: again.event_seen("reply_done", turn=1))
        again.close()
    finally:
        restarted.stop()

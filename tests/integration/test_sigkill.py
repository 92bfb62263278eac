"""Kill the server (SIGKILL) in the middle of a reply and start it again: every turn the
client saw finalized before the kill is in the conversation store."""

from __future__ import annotations

from pathlib import Path

from core.conversation_store import ConversationStore
from monitoring.server_process import ServerProcess
from monitoring.voice_client import VoiceClient

QUESTIONS = ["What is the capital of France?", "Name a colour.", "What is two plus two?"]


def finalized(client: VoiceClient) -> list[tuple[int, str, str]]:
    """(turn, role, text) of every turn the client was shown as final."""
    rows = []
    for e in client.events:
        if e["type"] == "transcript" and e.get("final") and e["text"]:
            rows.append((e["turn"], "user", e["text"]))
        elif e["type"] == "reply_done" and e["text"]:
            rows.append((e["turn"], "assistant", e["text"]))
    return rows


def test_finalized_turns_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "turns.db"
    env = {"VOICECHAT_DB_PATH": str(db), "VOICECHAT_GREETING_AFTER_MS": "0"}
    server = ServerProcess(env=env, log_path=tmp_path / "server.log").start()
    try:
        client = VoiceClient(server.ws_url)
        client.start()
        session_id = next(e for e in client.events if e["type"] == "ready")["session_id"]
        for number, question in enumerate(QUESTIONS, start=1):
            client.send_json({"type": "text", "text": question})
            assert client.wait_for(lambda n=number: client.event_seen("reply_done", turn=n))
        client.send_json({"type": "text", "text": "Tell me a long story about a dragon."})
        assert client.wait_for(lambda: client.event_seen("reply_started", turn=len(QUESTIONS) + 1))
        server.kill()  # mid-reply
        client.wait_for(lambda: client.closed, 10)
        seen = finalized(client)
    finally:
        server.stop()
    assert len(seen) >= 2 * len(QUESTIONS) + 1  # three exchanges and the last question

    restarted = ServerProcess(env=env, log_path=tmp_path / "server2.log").start()
    try:
        store = ConversationStore(db)
        stored = {(t.turn, t.role, t.text) for t in store.turns(session_id)}
        store.close()
        assert set(seen) <= stored, set(seen) - stored
        again = VoiceClient(restarted.ws_url)  # and the restarted server serves as before
        again.start()
        again.send_json({"type": "text", "text": "Hello again."})
        assert again.wait_for(lambda: again.event_seen("reply_done", turn=1))
        again.close()
    finally:
        restarted.stop()

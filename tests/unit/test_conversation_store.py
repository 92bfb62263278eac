"""The conversation store on a real SQLite file: committed as it happens, never blocking."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from core.store.conversations import ConversationStore, StoreError, StoreFull
from core.store.retention import Retention, used_bytes
from tests.conftest import ROOT


def test_turns_are_stored_in_order_with_the_cut_mark(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "talk.db")
    store.record("s1", 1, "user", "What is the capital of France?")
    store.record("s1", 1, "assistant", "Paris is the capital …", cut=True)
    store.record("s2", 1, "user", "Someone else")
    assert store.flush()
    turns = store.turns("s1")
    assert [(t.role, t.text, t.cut) for t in turns] == [
        ("user", "What is the capital of France?", False), ("assistant", "Paris is the capital …", True)]
    store.close()
    reopened = ConversationStore(tmp_path / "talk.db")
    assert [t.text for t in reopened.turns("s2")] == ["Someone else"]
    reopened.close()


def test_a_writer_stuck_on_the_disk_refuses_records_instead_of_blocking(tmp_path: Path) -> None:
    path = tmp_path / "talk.db"
    store = ConversationStore(path, queue_items=2)
    with closing(sqlite3.connect(path, timeout=5)) as blocker:
        blocker.execute("BEGIN EXCLUSIVE")  # the writer's next commit waits for this
        accepted, refused = 0, 0
        for number in range(10):  # the writer holds at most 3 while stuck, the queue 2
            try:
                store.record("s", number, "user", f"words {number}")
                accepted += 1
            except StoreFull:
                refused += 1
        blocker.rollback()
    assert refused >= 5 and accepted >= 2
    assert store.flush()
    assert len(store.turns("s")) == accepted  # everything taken was written
    assert store.write_errors == 0
    store.close()


KILLED_WRITER = """
import os, signal, sys
from core.store.conversations import ConversationStore
store = ConversationStore(sys.argv[1])
for number in range(50):
    store.record("killed", number, "user", f"turn {number}")
assert store.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_what_was_committed_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "talk.db"
    result = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], cwd=ROOT, timeout=60)
    assert result.returncode == -9
    store = ConversationStore(path)
    assert [t.turn for t in store.turns("killed")] == list(range(50))
    store.close()


def test_a_path_that_cannot_hold_a_database_is_a_clear_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(StoreError, match="cannot use"):
        ConversationStore(not_a_folder / "turns.db")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"garbage\.db"):
        ConversationStore(garbage)


def test_the_files_are_private_to_the_user(tmp_path: Path) -> None:
    path = tmp_path / "new" / "talk.db"
    store = ConversationStore(path)
    store.record("s", 1, "user", "private words")
    assert store.flush()
    for name in ("talk.db", "talk.db-wal", "talk.db-shm"):
        assert (path.parent / name).stat().st_mode & 0o777 == 0o600, name
    assert path.parent.stat().st_mode & 0o777 == 0o700
    store.close()
    path.chmod(0o644)  # a file from before: made private when opened
    ConversationStore(path).close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_deleted_conversation_is_gone_and_others_stay(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "talk.db")
    store.record("mine", 1, "user", "something personal")
    store.record("theirs", 1, "user", "their words")
    ticket = store.delete_conversation("mine")  # queued after the record: it goes too
    store.record("mine", 2, "user", "said after the deletion")
    assert store.wait_written(ticket, 5) and store.flush()
    assert [t.text for t in store.turns("mine")] == ["said after the deletion"]
    assert [t.text for t in store.turns("theirs")] == ["their words"]
    assert store.deleted == 1
    store.close()


def test_the_retention_deletes_old_turns_then_the_oldest_conversations(tmp_path: Path) -> None:
    path = tmp_path / "talk.db"
    ConversationStore(path).close()
    now = time.time()
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.executemany(
            "INSERT INTO turns (session_id, turn, role, text, at) VALUES (?, ?, 'user', ?, ?)",
            [("old", 1, "long ago", now - 40 * 86_400)]
            + [(f"s{n:03}", 1, "x" * 2000, now - 1000 + n) for n in range(200)])
    store = ConversationStore(path, retention=Retention(max_age_s=30 * 86_400, max_bytes=200_000))
    assert store.prune_now() > 1
    assert store.turns("old") == []
    with closing(sqlite3.connect(path)) as connection:
        assert used_bytes(connection) <= 200_000
        kept = [r[0] for r in connection.execute("SELECT session_id FROM turns ORDER BY at")]
    assert kept and kept[-1] == "s199" and "s000" not in kept  # the newest stay
    store.close()

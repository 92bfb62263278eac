from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitoring.server_process import ServerProcess

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The real app with the embedded models, shared by the integration and browser tests."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    # No greeting: every test decides itself when the first words are said.
    server = ServerProcess(env={"VOICECHAT_GREETING_AFTER_MS": "0"}, log_path=log)
    server.start()
    yield server
    server.stop()

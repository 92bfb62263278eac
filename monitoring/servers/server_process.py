"""Start the app as a child process on a free port, wait until it serves, stop it by PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

import psutil

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    """Something listens on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class ServerStartError(RuntimeError):
    pass


class ServerProcess:
    def __init__(self, env: dict[str, str] | None = None, port: int | None = None,
                 log_path: str | Path | None = None) -> None:
        self.port = port or free_port()
        self.env = {**os.environ, **(env or {}), "VOICECHAT_PORT": str(self.port),
                    "VOICECHAT_HOST": "127.0.0.1"}
        if "VOICECHAT_DB_PATH" not in self.env:  # never the person's own conversations
            self.env["VOICECHAT_DB_PATH"] = str(Path(tempfile.mkdtemp(prefix="voicechat-")) / "turns.db")
        self.log_path = Path(log_path) if log_path else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/voice"

    def start(self, timeout_s: float = 120.0) -> ServerProcess:
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=self.env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerStartError(f"server exited with {self.process.returncode}; see {self.log_path}")
            if self.healthy():
                return self
            time.sleep(0.2)  # polling a child process that reports nothing by itself
        self.stop()
        raise ServerStartError(f"server not ready after {timeout_s:.0f} s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.http_url + "/healthz", timeout=1) as response:
                return json.load(response).get("status") == "ok"
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def worker_process(self) -> psutil.Process:
        """The process that serves and holds the models (gunicorn's worker, the largest)."""
        assert self.process is not None, "not started"
        parent = psutil.Process(self.process.pid)
        return max([parent, *parent.children(recursive=True)], key=lambda p: p.memory_info().rss)

    def worker_rss_bytes(self) -> int:
        """RSS of the process that holds the models (gunicorn's worker)."""
        if self.process is None:
            return 0
        return int(self.worker_process().memory_info().rss)

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def kill(self) -> None:
        """SIGKILL the server and its worker (its own process group): a crash, not a stop."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

"""Debian's PostgreSQL on 127.0.0.1 in a temporary data folder: for the store's tests and
the local cluster. initdb will not run as root, so as root the server runs as the
``postgres`` user the package creates. Stopped by its own PID (the process started
here), the folder removed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from monitoring.servers.server_process import free_port

USER = "voicechat"  # the database role initdb creates (trusted on 127.0.0.1 only)


class PostgresStartError(RuntimeError):
    pass


def postgres_bin() -> Path:
    """The newest installed server's bin folder (``/usr/lib/postgresql/<version>/bin``)."""
    versions = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not versions:
        raise PostgresStartError("PostgreSQL is not installed (make setup-dev installs Debian's package)")
    return versions[-1].parent


class PostgresServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="voicechat-pg-"))
        self.data = self.folder / "data"
        self.process: subprocess.Popen[bytes] | None = None
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            self._as = {"user": "postgres", "group": "postgres", "extra_groups": []}
            shutil.chown(self.folder, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def start(self, timeout_s: float = 30.0) -> PostgresServer:
        bin_dir = postgres_bin()
        if not self.data.exists():
            subprocess.run([str(bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER,
                            "-E", "UTF8", "--no-sync"], check=True, capture_output=True, cwd=self.folder,
                           timeout=120, **self._as)
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - kept for the process's life
        self.process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(self.data), "-k", str(self.folder), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, start_new_session=True, **self._as)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PostgresStartError(f"postgres exited: {self.log_tail()}")
            if self._accepts():
                return self
            time.sleep(0.1)  # polling a server that is still starting: it reports nothing
        self.stop()
        raise PostgresStartError(f"postgres not ready in {timeout_s:g} s: {self.log_tail()}")

    def _accepts(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def log_tail(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-800:] if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as a crash; ``start`` brings the same data back."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        (self.data / "postmaster.pid").unlink(missing_ok=True)

    def stop(self, remove: bool = False) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # "fast" shutdown: clients cut, data written
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop(remove=True)


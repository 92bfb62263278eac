"""Debian's HAProxy with the shipped deploy/haproxy/voicechat.cfg, its marked values filled
in (the port it listens on, one server line per worker), for the cluster tests and
``make run-cluster``. Started on 127.0.0.1, stopped by its own PID."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from monitoring.servers.server_process import free_port, port_open
from monitoring.servers.tls_proxy import ROOT

SHIPPED_CONFIG = ROOT / "deploy" / "haproxy" / "voicechat.cfg"
HAPROXY = "/usr/sbin/haproxy"
SERVER_RUNNING = "2"  # srv_op_state in "show servers state"


class HaproxyStartError(RuntimeError):
    pass


def cluster_config(port: int, worker_ports: list[int], stats_socket: Path | None = None) -> str:
    """The shipped config with this run's values; ``stats_socket``: where HAProxy answers
    questions about its servers (``servers_up``)."""
    text = SHIPPED_CONFIG.read_text()
    if stats_socket is not None:
        text = text.replace("global\n", f"global\n    stats socket {stats_socket} mode 600 level user\n", 1)
    bind = "    bind 127.0.0.1:8000            # CHANGE: the address people (or the TLS proxy) reach"
    if bind not in text:
        raise HaproxyStartError(f"{SHIPPED_CONFIG} no longer has its bind line")
    text = text.replace(bind, f"    bind 127.0.0.1:{port}")
    servers = "\n".join(f"    server worker{n + 1} 127.0.0.1:{p}" for n, p in enumerate(worker_ports))
    text, count = re.subn(r"(?m)^    server worker.*\n(^    server worker.*\n)*", servers + "\n", text)
    if count != 1:
        raise HaproxyStartError(f"{SHIPPED_CONFIG} no longer has its server lines")
    return text


class Haproxy:
    def __init__(self, worker_ports: list[int], port: int | None = None) -> None:
        self.port = port or free_port()
        self.worker_ports = worker_ports
        self.folder = Path(tempfile.mkdtemp(prefix="voicechat-haproxy-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def stats_socket(self) -> Path:
        return self.folder / "stats.sock"

    def servers_up(self) -> set[int]:
        """The workers' ports HAProxy sends new connections to now, as it says itself (a
        process started again is back only after its health checks pass)."""
        with socket.socket(socket.AF_UNIX) as stats:
            stats.settimeout(2.0)
            stats.connect(str(self.stats_socket))
            stats.sendall(b"show servers state workers\n")
            answer = b""
            while chunk := stats.recv(65536):
                answer += chunk
        lines = answer.decode().splitlines()
        header = next((line[2:].split() for line in lines if line.startswith("# ")), [])
        rows = [dict(zip(header, line.split(), strict=False)) for line in lines
                if line and line[0].isdigit() and len(line.split()) == len(header)]
        return {int(row["srv_port"]) for row in rows if row.get("srv_op_state") == SERVER_RUNNING}

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/voice"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> Haproxy:
        if not Path(HAPROXY).exists():
            raise HaproxyStartError("haproxy is not installed (make setup-dev installs Debian's package)")
        config = self.folder / "haproxy.cfg"
        config.write_text(cluster_config(self.port, self.worker_ports, self.stats_socket))
        check = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise HaproxyStartError(f"the config does not check: {check.stdout[-500:]} {check.stderr[-500:]}")
        self.process = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HaproxyStartError(f"haproxy exited with {self.process.returncode}")
            if port_open(self.port):
                return self
            time.sleep(0.05)  # polling a port that is not open yet
        self.stop()
        raise HaproxyStartError(f"haproxy not listening on {self.port} within {timeout_s:g} s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # at once: its clients reconnect through another
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Haproxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

"""Debian's HAProxy with the shipped deploy/haproxy/voicechat.cfg, its marked values filled
in (the port it listens on, one server line per worker), for the cluster tests and
``make run-cluster``. Started on 127.0.0.1, stopped by its own PID."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from monitoring.servers.server_process import free_port, port_open
from monitoring.servers.tls_proxy import ROOT

SHIPPED_CONFIG = ROOT / "deploy" / "haproxy" / "voicechat.cfg"
HAPROXY = "/usr/sbin/haproxy"


class HaproxyStartError(RuntimeError):
    pass


def cluster_config(port: int, worker_ports: list[int]) -> str:
    text = SHIPPED_CONFIG.read_text()
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
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/voice"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> Haproxy:
        if not Path(HAPROXY).exists():
            raise HaproxyStartError("haproxy is not installed (make setup-dev installs Debian's package)")
        config = self.folder / "haproxy.cfg"
        config.write_text(cluster_config(self.port, self.worker_ports))
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

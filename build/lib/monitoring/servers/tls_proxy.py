"""Debian's nginx with a self-signed certificate in front of a running app: the shipped
deploy/nginx/voicechat.conf, with its marked values filled in, for the TLS test and for
trying docs/deploy.md on one machine. Started on 127.0.0.1, stopped by its own PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from monitoring.servers.server_process import free_port

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_CONFIG = ROOT / "deploy" / "nginx" / "voicechat.conf"
NGINX = "/usr/sbin/nginx"


class ProxyStartError(RuntimeError):
    pass


def self_signed_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def site_config(upstream_port: int, port: int, name: str, cert: Path, key: Path) -> str:
    """The shipped server block with the values marked CHANGE filled in."""
    text = SHIPPED_CONFIG.read_text()
    for old, new in (("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
                     ("server_name voice.example.com;", f"server_name {name};"),
                     ("/etc/ssl/certs/voicechat.pem;", f"{cert};"),
                     ("/etc/ssl/private/voicechat.key;", f"{key};"),
                     ("http://127.0.0.1:8050;", f"http://127.0.0.1:{upstream_port};")):
        if old not in text:
            raise ProxyStartError(f"{SHIPPED_CONFIG} no longer has {old!r}")
        text = text.replace(old, new)
    return text


class TlsProxy:
    def __init__(self, upstream_port: int, name: str = "localhost") -> None:
        self.upstream_port = upstream_port
        self.name = name
        self.port = free_port()
        self._folder = Path(tempfile.mkdtemp(prefix="voicechat-nginx-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://{self.name}:{self.port}"

    def _write_config(self) -> Path:
        folder = self._folder
        os.chmod(folder, 0o755)  # nginx's workers run as nobody when started as root
        cert, key = self_signed_certificate(folder, self.name)
        site = site_config(self.upstream_port, self.port, self.name, cert, key)
        (folder / "voicechat.conf").write_text(site)
        temp = {kind: folder / kind for kind in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir(mode=0o777)
            os.chmod(path, 0o777)
        main = folder / "nginx.conf"
        main.write_text("\n".join([
            "worker_processes 1;", f"pid {folder}/nginx.pid;", f"error_log {folder}/error.log warn;",
            "daemon off;", "events { worker_connections 256; }", "http {", "  access_log off;",
            *(f"  {kind}_temp_path {path};" if kind != "body" else f"  client_body_temp_path {path};"
              for kind, path in temp.items()),
            f"  include {folder}/voicechat.conf;", "}", ""]))
        return main

    def start(self, timeout_s: float = 15.0) -> TlsProxy:
        if not Path(NGINX).exists():
            raise ProxyStartError("nginx is not installed (make setup-dev installs Debian's package)")
        config = self._write_config()
        self._process = subprocess.Popen([NGINX, "-c", str(config), "-p", str(self._folder),
                                          "-e", str(self._folder / "error.log")],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ProxyStartError(f"nginx exited: {self._process.stderr.read().decode()[-800:]}")  # type: ignore[union-attr]
            if self._handshakes():
                return self
            time.sleep(0.05)  # polling a port that is not open yet: nothing to wait on
        self.stop()
        raise ProxyStartError(f"nginx did not answer on port {self.port} within {timeout_s:g} s")

    def _handshakes(self) -> bool:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as raw, \
                    context.wrap_socket(raw, server_hostname=self.name):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGQUIT)  # graceful: workers finish, then the master exits
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if process is not None and process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> TlsProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

"""What ``make capacity`` loads: one server process, or a group of worker processes behind
HAProxy (with Redis and PostgreSQL, as ``make run-cluster``), started fresh for a step
and stopped by their PIDs; and the CPU each of its processes used during the step."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from monitoring.servers.cluster import running_cluster
from monitoring.servers.server_process import ServerProcess
from monitoring.servers.simulated import simulated_env


@dataclass(frozen=True)
class Setup:
    """A server setup to sweep: how many worker processes, the speech model batched or not."""

    workers: int = 1
    batched: bool = True

    @property
    def name(self) -> str:
        model = "batched" if self.batched else "per-chunk"
        return f"{self.workers}w-{model}"

    @property
    def label(self) -> str:
        balancer = "1 process" if self.workers == 1 else f"{self.workers} processes behind HAProxy"
        return f"{balancer}, Silero {'batched' if self.batched else 'one call per chunk'}"


@dataclass
class Target:
    ws_url: str
    workers: list[psutil.Process]
    others: dict[str, list[psutil.Process]] = field(default_factory=dict)
    _start: dict[int, float] = field(default_factory=dict)
    _started_at: float = 0.0

    def start_metering(self) -> None:
        self._started_at = time.monotonic()
        self._start = {p.pid: _cpu_s(p) for p in self._all()}

    def cpu_percent(self) -> dict[str, object]:
        """CPU per process since ``start_metering`` (100 = one core)."""
        wall = max(1e-6, time.monotonic() - self._started_at)

        def used(p: psutil.Process) -> float:
            return round((_cpu_s(p) - self._start.get(p.pid, 0.0)) / wall * 100, 1)

        return {"workers": [used(p) for p in self.workers],
                **{name: round(sum(used(p) for p in ps), 1) for name, ps in self.others.items()}}

    def _all(self) -> list[psutil.Process]:
        return [*self.workers, *(p for ps in self.others.values() for p in ps)]


def _cpu_s(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


@contextlib.contextmanager
def started(setup: Setup, env: dict[str, str], logs: Path, name: str,
            simulated: bool = True) -> Iterator[Target]:
    base = simulated_env({}) if simulated else {}
    env = {**base, **env, "VOICECHAT_VAD_BATCH": "1" if setup.batched else "0"}
    if setup.workers == 1:
        with ServerProcess(env={**env, "VOICECHAT_DB_PATH": str(logs / f"{name}.db")},
                           log_path=logs / f"{name}.log") as server:
            yield Target(server.ws_url, [server.worker_process()])
        return
    with running_cluster(setup.workers, simulated=simulated, extra_env=env) as (balancer, processes):
        assert balancer.process is not None
        yield Target(balancer.ws_url, [p.worker_process() for p in processes],
                     {"haproxy": [psutil.Process(balancer.process.pid)]})

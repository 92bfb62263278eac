"""``make run-cluster``: the scaled setup on this machine, from Debian's packages: Redis,
PostgreSQL, N app processes (one per core by default) and HAProxy in front on
http://127.0.0.1:8050 (docs/scaling.md). Ctrl-C (or SIGTERM) stops them all, each by
its own PID, the balancer first.

    python -m monitoring.servers.cluster [--workers N] [--port 8050] [--simulated]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from monitoring.servers.haproxy import Haproxy
from monitoring.servers.postgres import PostgresServer
from monitoring.servers.redis_server import RedisServer
from monitoring.servers.server_process import ServerProcess, free_port
from monitoring.servers.simulated import SIMULATED_ENV


@dataclass
class Cluster:
    redis: RedisServer
    postgres: PostgresServer
    balancer: Haproxy
    processes: list[ServerProcess]


@contextlib.contextmanager
def cluster_services(workers: int, port: int | None = None, simulated: bool = False,
                     extra_env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Everything started, yielded, and stopped in reverse order whatever happens."""
    with contextlib.ExitStack() as stack:
        redis_server = stack.enter_context(RedisServer())
        postgres = stack.enter_context(PostgresServer())
        env = {**(SIMULATED_ENV if simulated else {}), "VOICECHAT_REDIS_URL": redis_server.url,
               "VOICECHAT_DATABASE_URL": postgres.url, "VOICECHAT_TRUSTED_PROXIES": "127.0.0.1",
               "VOICECHAT_PUBLIC_ACCESS": "1", **(extra_env or {})}
        processes = []
        for _ in range(workers):
            process = ServerProcess(env=env, port=free_port())
            stack.callback(process.stop)
            processes.append(process.start(timeout_s=300))
        balancer = Haproxy([p.port for p in processes], port=port)
        stack.callback(balancer.stop)
        balancer.start()
        yield Cluster(redis_server, postgres, balancer, processes)


@contextlib.contextmanager
def running_cluster(workers: int, port: int | None = None, simulated: bool = False,
                    extra_env: dict[str, str] | None = None) -> Iterator[tuple[Haproxy, list[ServerProcess]]]:
    with cluster_services(workers, port, simulated, extra_env) as cluster:
        yield cluster.balancer, cluster.processes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--simulated", action="store_true", help="simulated providers (load tests)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with running_cluster(args.workers, args.port, args.simulated) as (balancer, processes):
        print(f"cluster ready on {balancer.http_url} ({len(processes)} processes on ports "
              f"{', '.join(str(p.port) for p in processes)}; Redis and PostgreSQL on 127.0.0.1); "
              "Ctrl-C stops it", flush=True)
        stop.wait()
        print("stopping the cluster", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

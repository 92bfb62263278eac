"""The scaled setup under the load tester's spoken sessions while something happens to it
(``make bench-outage``, ``make bench-restart``): the cluster of ``make run-cluster`` with
simulated providers and an admin token, a thread that meddles with it on its own
schedule, and the load test that runs meanwhile."""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable, Iterator

from monitoring.loadtest.config import LoadConfig
from monitoring.loadtest.report import Report
from monitoring.loadtest.run import run_load
from monitoring.servers.cluster import Cluster, cluster_services


@contextlib.contextmanager
def admin_cluster(processes: int = 2) -> Iterator[tuple[Cluster, str]]:
    """The cluster, and the admin token its processes answer ``/metrics.json`` to."""
    token = secrets.token_hex(8)
    env = {"VOICECHAT_ADMIN_TOKEN": token, "VOICECHAT_LOG_LEVEL": "WARNING"}
    with cluster_services(processes, simulated=True, extra_env=env) as cluster:
        yield cluster, token


def load_while(cluster: Cluster, sessions: int, turns: int, meddle: Callable[[threading.Event], None],
               name: str, join_s: float) -> Report:
    """``sessions`` talking ``turns`` times through the balancer while ``meddle`` runs on
    its own thread; once the load test is over, ``meddle`` is told to stop (the event)."""
    stop = threading.Event()
    meddler = threading.Thread(target=meddle, args=(stop,), name=name, daemon=True)
    meddler.start()
    try:
        return run_load(LoadConfig(url=cluster.balancer.ws_url, sessions=sessions, turns=turns,
                                   ramp_up_s=max(2.0, sessions / 10), barge_in_every=0))
    finally:
        stop.set()
        meddler.join(timeout=join_s)

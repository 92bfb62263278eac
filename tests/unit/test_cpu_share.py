"""The embedded LLM's thread count follows the cores other processes leave free."""

from __future__ import annotations

from pathlib import Path

from core.providers.embedded import cpu_share
from core.providers.embedded.cpu_share import (
    runnable_in_other_processes,
    runnable_in_this_process,
    runnable_on_machine,
    threads_for_now,
)


def test_the_kernels_count_of_runnable_threads_is_read(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  1 2 3 4\nctxt 99\nprocs_running 4\nprocs_blocked 0\n")
    assert runnable_on_machine(str(stat)) == 4
    stat.write_text("cpu  1 2 3 4\n")
    assert runnable_on_machine(str(stat)) is None
    assert runnable_on_machine(str(tmp_path / "missing")) is None
    assert runnable_on_machine() is not None  # (this machine has /proc)


def test_own_runnable_threads_are_counted_from_their_state(tmp_path: Path) -> None:
    for number, stat in enumerate(["1 (python) R 0", "2 (a (b) c) R 0", "3 (idle) S 0"]):
        (tmp_path / str(number)).mkdir()
        (tmp_path / str(number) / "stat").write_text(stat)
    assert runnable_in_this_process(str(tmp_path)) == 2
    assert runnable_in_this_process(str(tmp_path / "missing")) is None


def test_threads_shrink_to_the_free_cores_and_never_below_one(monkeypatch) -> None:
    assert threads_for_now(2, cores=2, others=0) == 2  # a quiet machine: all wanted
    assert threads_for_now(2, cores=2, others=1) == 1
    assert threads_for_now(2, cores=2, others=5) == 1
    assert threads_for_now(4, cores=8, others=2) == 4
    assert threads_for_now(3, cores=2, others=None) == 3  # unknown: as configured
    monkeypatch.setattr(cpu_share, "runnable_on_machine", lambda: 3)
    monkeypatch.setattr(cpu_share, "runnable_in_this_process", lambda: 2)
    assert threads_for_now(2, cores=2, others=runnable_in_other_processes()) == 1  # one elsewhere
    monkeypatch.setattr(cpu_share, "runnable_in_this_process", lambda: 3)
    assert threads_for_now(2, cores=2, others=runnable_in_other_processes()) == 2  # all ours

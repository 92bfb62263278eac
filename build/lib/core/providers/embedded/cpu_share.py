"""How many threads a model should use right now.

llama.cpp's threads spin while they wait for each other at every step, so a thread
whose core is taken by another process stalls the rest: on this 2-core machine, with
two other busy processes, Gemma 270M with 2 threads decoded 3 tokens/s against 11 with
one (idle: 22 against 15). So the thread count follows the cores that other processes
leave free: the kernel's count of runnable threads (``procs_running`` in /proc/stat)
minus this process's own runnable threads. Work inside this process (Piper, Whisper)
is left out on purpose: it comes and goes within a turn, and the fixed count served it
best in ``make bench``. Where /proc is not available, the configured number is used.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC_STAT = "/proc/stat"
OWN_TASKS = "/proc/self/task"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def runnable_on_machine(path: str = PROC_STAT) -> int | None:
    """Threads running or ready to run on the whole machine, now (the reader included)."""
    try:
        with open(path, "rb") as stat:
            for line in stat:
                if line.startswith(b"procs_running "):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def runnable_in_this_process(tasks: str = OWN_TASKS) -> int | None:
    """This process's threads in state R (the reader included)."""
    try:
        entries = list(Path(tasks).iterdir())
    except OSError:
        return None
    running = 0
    for entry in entries:
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue  # the thread ended while we looked
        # The state follows the command name, which is in parentheses and may hold spaces.
        after_name = stat.rfind(b")") + 2
        running += stat[after_name:after_name + 1] == b"R"
    return running


def runnable_in_other_processes() -> int | None:
    machine, own = runnable_on_machine(), runnable_in_this_process()
    if machine is None or own is None:
        return None
    return max(0, machine - max(1, own))


def threads_for_now(wanted: int, others: int | None, cores: int | None = None) -> int:
    """``wanted`` threads, fewer when ``others`` (runnable threads of other processes)
    hold cores; at least one. ``others`` unknown (None): ``wanted``."""
    if others is None:
        return wanted
    free = (usable_cores() if cores is None else cores) - others
    return max(1, min(wanted, free))

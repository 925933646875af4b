"""Worker processes for a class: pools forked from the warm grading process, and progress bars.

A spawned worker starts a fresh interpreter and imports nbgrader, its jsonschema, the judge,
numpy and matplotlib again: about 4 s of CPU each before it grades anything. A forked worker
starts with everything this process has imported. Only the forking thread lives on in a forked
child, so a lock another thread held at that moment would stay locked there: a process that runs
other threads (a test runner's, say) spawns its workers instead.
"""
from __future__ import annotations

import importlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any

from tqdm import tqdm


class ProgressBar(tqdm):
    """tqdm without its monitor thread (this process may fork workers later); the kit's loops
    refresh their bars themselves."""

    monitor_interval = 0


def usable_cores() -> int:
    """The cores this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def pool_context(warm: Iterable[str] = ()) -> BaseContext:
    """The multiprocessing context for a pool of workers: fork when this process runs one thread.

    warm: modules the workers will import; with fork they are imported here once, for all of them.
    """
    if threading.active_count() > 1:
        return multiprocessing.get_context("spawn")
    for name in warm:
        importlib.import_module(name)
    return multiprocessing.get_context("fork")


def start_pool(context: BaseContext, jobs: int, initializer: Callable[..., Any] | None = None,
               initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A ProcessPoolExecutor of `jobs` workers of `context`, all started before this returns.

    The executor forks all its workers when the first task arrives and only then starts its own
    manager thread; a no-op first task makes that happen now, before the caller starts anything.
    """
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=initializer, initargs=initargs)
    pool.submit(int)
    return pool

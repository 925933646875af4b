"""Run notebook executions on a Dask distributed cluster: for classes beyond one machine.

nbgrader's bookkeeping (staging, sanitizing, the gradebook) stays in the grading processes on
the instructor's machine; only `SplitExecute`'s execution of each notebook is sent to the
cluster. It goes as plain data (`grader.pipeline.jobs.Job`: the notebook as text, the working
folder's and the instructor's files as bytes) and comes back as data (`JobResult`), so workers
need no shared disk, only the kit installed (`make setup` in a checkout) and bubblewrap (see
README, "Grading on a Dask cluster").

- GraderSettings.dask_scheduler (nbgrader_config.py: env GRADER_DASK_SCHEDULER) set to a
  scheduler address makes every execution go through `run_remotely`.
- `python -m grader autograde --dask local` starts a LocalCluster on this machine (one
  single-threaded worker process per grading job) for the run; `--dask tcp://host:8786` uses
  an existing cluster.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

from .jobs import Job, JobResult, run_job
from .workers import usable_cores

SCHEDULER_VARIABLE = "GRADER_DASK_SCHEDULER"
LOCAL = "local"
CONNECT_TIMEOUT = "60s"

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


class _WorkerCounters:
    """On a worker process: executions in it run one at a time (the judge redirects this process's
    stdout and patches nnkit's hooks while it runs), and how many ran."""

    lock = threading.Lock()
    executed = 0


def execute(job_data: dict[str, Any]) -> JobResult:
    """Worker side: run one Job given as a dict of plain data."""
    with _WorkerCounters.lock:
        result = run_job(Job(**job_data))
        _WorkerCounters.executed += 1
    return result


def executed_count() -> int:
    """Worker side: how many executions this worker process has run."""
    return _WorkerCounters.executed


def client_for(address: str) -> Any:
    """A dask.distributed Client connected to `address`, one per address and process (cached)."""
    from distributed import Client

    with _clients_lock:
        client = _clients.get(address)
        if client is None or client.status not in ("running", "connecting", "newly-created"):
            client = Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT)
            _clients[address] = client
        return client


def run_remotely(scheduler: str, job: Job) -> JobResult:
    """Run `run_job(job)` on a worker of the cluster at `scheduler`; errors there are raised here."""
    client = client_for(scheduler)
    future = client.submit(execute, dataclasses.asdict(job), pure=False)
    try:
        result = future.result()
    finally:
        future.release()
    return result if isinstance(result, JobResult) else JobResult(**result)


def executed_per_worker(scheduler: str) -> dict[str, int]:
    """worker address -> executions run there by this cluster's worker processes."""
    return dict(client_for(scheduler).run(executed_count))


def close_clients() -> None:
    with _clients_lock:
        for client in _clients.values():
            with contextlib.suppress(Exception):
                client.close()
        _clients.clear()


@contextlib.contextmanager
def local_cluster(workers: int | None = None) -> Iterator[str]:
    """Start a LocalCluster of `workers` single-threaded worker processes; yields its address."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=workers or usable_cores(), threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    try:
        yield cluster.scheduler_address
    finally:
        close_clients()
        cluster.close()


@contextlib.contextmanager
def dask_engine(where: str, workers: int | None = None) -> Iterator[str]:
    """Grade with executions on Dask while the block runs; yields the scheduler address.

    - where: "local" (start a LocalCluster with `workers` processes) or a scheduler address
    Sets GRADER_DASK_SCHEDULER (read by nbgrader_config.py) for this process and the grading
    processes it starts.
    """
    saved = os.environ.get(SCHEDULER_VARIABLE)
    with contextlib.ExitStack() as stack:
        address = stack.enter_context(local_cluster(workers)) if where == LOCAL else where
        os.environ[SCHEDULER_VARIABLE] = address
        try:
            yield address
        finally:
            if saved is None:
                os.environ.pop(SCHEDULER_VARIABLE, None)
            else:
                os.environ[SCHEDULER_VARIABLE] = saved

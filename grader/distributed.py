"""Run notebook executions on a Dask distributed cluster: for classes beyond one machine.

nbgrader's bookkeeping (staging, sanitizing, the gradebook) stays in the grading
processes on the instructor's machine; only `SplitExecute`'s execution of each
notebook is sent to the cluster. It goes as plain data (`grader.execution.Job`:
the notebook as text, the student's and the assignment's files as bytes) and
comes back as data (the executed notebook as text), so workers need no shared
disk, only the kit's code: a checkout of this repository, its virtual
environment and bubblewrap (see README, "Grading on a Dask cluster").

- `SplitExecute.dask_scheduler` (env GRADER_DASK_SCHEDULER) set to a scheduler
  address makes every execution go through `run_remotely`.
- `python -m grader autograde --dask local` starts a LocalCluster on this machine
  (one single-threaded worker process per grading job) for the run;
  `--dask tcp://host:8786` uses an existing cluster.
"""
import contextlib
import dataclasses
import logging
import os
import sys
import threading
from pathlib import Path

SCHEDULER_VARIABLE = "GRADER_DASK_SCHEDULER"
LOCAL = "local"
CONNECT_TIMEOUT = "60s"

_clients = {}
_clients_lock = threading.Lock()

# --- on the worker --------------------------------------------------------------------------------
#: executions in one worker process run one at a time: the judge redirects this process's stdout and
#: patches the `nnkit.notebooks` hooks while it runs, so two executions must not overlap in threads.
_execution_lock = threading.Lock()
_executed = 0


def _ensure_kit_importable():
    """Make the support package (assignments/nnkit) importable next to this checkout's grader."""
    try:
        import nnkit  # noqa: F401
    except ImportError:
        assignments = str(Path(__file__).resolve().parents[1] / "assignments")
        if assignments not in sys.path:
            sys.path.insert(0, assignments)


def execute(job_data):
    """Worker side: run one Job given as a dict of plain data; returns what run_job returns."""
    global _executed
    _ensure_kit_importable()
    from .execution import Job, run_job

    with _execution_lock:
        result = run_job(Job(**job_data))
        _executed += 1
    return result


def executed_count():
    """Worker side: how many executions this worker process has run."""
    return _executed


# --- on the grading side --------------------------------------------------------------------------
def client_for(address):
    """A dask.distributed Client connected to `address`, one per address and process (cached)."""
    from distributed import Client

    with _clients_lock:
        client = _clients.get(address)
        if client is None or client.status not in ("running", "connecting", "newly-created"):
            client = Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT)
            _clients[address] = client
        return client


def run_remotely(scheduler, job):
    """Run `grader.execution.run_job(job)` on a worker of the cluster at `scheduler`.

    Returns what run_job returns (the executed notebook as JSON text, the seconds the execution took
    on the worker, ...), as plain data. Errors raised on the worker (e.g. no sandbox there) are
    raised here.
    """
    client = client_for(scheduler)
    future = client.submit(execute, dataclasses.asdict(job), pure=False)
    try:
        return future.result()
    finally:
        future.release()


def executed_per_worker(scheduler):
    """worker address -> executions run there by this cluster's worker processes."""
    return client_for(scheduler).run(executed_count)


def close_clients():
    with _clients_lock:
        for client in _clients.values():
            with contextlib.suppress(Exception):
                client.close()
        _clients.clear()


@contextlib.contextmanager
def local_cluster(workers=None):
    """Start a LocalCluster of `workers` single-threaded worker processes; yields its address.

    Workers are started from this environment, so they import the same grader and nnkit.
    """
    from distributed import LocalCluster

    from .autograde import usable_cores

    cluster = LocalCluster(n_workers=workers or usable_cores(), threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    try:
        yield cluster.scheduler_address
    finally:
        close_clients()
        cluster.close()


@contextlib.contextmanager
def dask_engine(where, workers=None):
    """Grade with executions on Dask while the block runs; yields the scheduler address.

    - where: "local" (start a LocalCluster with `workers` processes) or a scheduler address
    Sets GRADER_DASK_SCHEDULER for this process and the grading processes it starts.
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

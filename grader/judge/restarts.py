"""The student process of a notebook kept alive: started on demand, restarted after a death with the
earlier cells replayed, every wait within the cell's time and the notebook's budget."""
from __future__ import annotations

import time
from collections.abc import Callable

from ..sandbox import protocol
from . import profile as phases
from .channel import StudentProcess
from .errors import BudgetExhausted, StudentProcessDied


class Restarts:
    """Deadlines and restarts of one notebook's student process.

    Inputs:
    - process: the StudentProcess
    - timeout: seconds per cell
    - budget: seconds for the whole notebook (restarts and replays included)
    - max_restarts: deaths allowed before the rest of the notebook fails
    - rebind: called after a restart inside a known-good block (binds its names again)
    """

    def __init__(self, process: StudentProcess, timeout: float, budget: float, max_restarts: int,
                 rebind: Callable[[], None]) -> None:
        self.process, self.timeout, self.budget, self.max_restarts = process, timeout, budget, max_restarts
        self.rebind = rebind
        self.budget_deadline = time.monotonic() + budget
        self.replay: list[str] = []     # student cells to re-run after a restart
        self.restarts = 0
        process.restart = self.ensure_process

    @property
    def exhausted(self) -> bool:
        return time.monotonic() >= self.budget_deadline

    def deadline(self, seconds: float) -> float:
        """A deadline `seconds` from now, within the notebook's budget."""
        if self.exhausted:
            raise BudgetExhausted()
        return min(time.monotonic() + seconds, self.budget_deadline)

    def ensure_process(self) -> None:
        """Start the student process, or restart it and restore its state after it died."""
        process = self.process
        if process.alive:
            return
        if process.started or self.replay:
            self.restarts += 1
            if self.restarts > self.max_restarts:
                raise StudentProcessDied(f"the student process died {self.max_restarts} times; giving up")
        process.stop()
        deadline = self.deadline(self.timeout * max(1, len(self.replay)))
        saved_deadline, saved_phase, process.restart = process.deadline, process.phase, None
        process.deadline = deadline
        try:
            process.start()
            process.phase = phases.REPLAYS
            for source in self.replay:
                process.request(protocol.exec_cell(source), restart=False)
            self.rebind()
        finally:
            process.deadline, process.restart, process.phase = saved_deadline, self.ensure_process, saved_phase

"""Execute one notebook with split execution, filling in every executed cell's outputs."""
from __future__ import annotations

import builtins
import contextlib
from dataclasses import dataclass, field
from typing import Any

from nbformat.notebooknode import NotebookNode

from ..conventions import cell_role
from ..sandbox import protocol, wire
from ..sandbox.limits import Limits
from . import profile as phases
from .profile import Stopwatch
from .restarts import Restarts
from .cells import (BUDGET_MESSAGE, CELL_TIMEOUT_MESSAGE, CappedStdout, error_output, result_output, run_compiled,
                    show_reply, stream)
from .channel import StudentProcess
from .errors import BudgetExhausted, CellTimeout, StudentProcessDied
from .hooks import judged_helpers
from .known_good import KnownGood, ReferenceProcess, ReferenceSolutions
from .proxies import RemoteCallable
from .verdicts import Verdicts



@dataclass(frozen=True)
class RunSettings:
    """How a notebook is run (the grader's settings for one execution).

    - timeout: seconds per cell
    - budget: seconds for the whole notebook, restarts and replays included
    - known_good_time_factor: cells that swap in known-good blocks get this many times `timeout`
    - max_restarts: the student process may die this many times before the rest of the notebook fails
    - skip_tags: student or given cells with any of these tags are not run (their outputs are kept):
      experiments and demonstrations, which nothing graded depends on
    - limits, uid, sandboxed: how to run the student process
    - bounds: what a message between the judge and the sandbox may cost
    """

    timeout: float = 30.0
    budget: float = 600.0
    known_good_time_factor: float = 4.0
    max_restarts: int = 25
    skip_tags: tuple[str, ...] = ("experiment",)
    limits: Limits = field(default_factory=Limits)
    uid: int | None = None
    sandboxed: bool = True
    bounds: wire.Bounds = wire.DEFAULT_BOUNDS


class NotebookRun:
    """Execute one notebook with split execution; fills in every executed cell's outputs.

    Inputs:
    - nb: the notebook (nbformat NotebookNode), already sanitized by nbgrader
    - files: the student's working folder (relative path -> bytes): their notebooks and the
      assignment's support package, written inside the sandbox
    - cwd: the folder of the working folder the notebook runs in (its assignment's)
    - solutions: the instructor's solutions (known-good parts for composite tests)
    - reference: the process that runs known-good parts for student code
    - settings: RunSettings
    - verified: functions that passed all their tests earlier in this grading run
    - functions: the assignment's graded functions (to map test cells to them)
    """

    def __init__(self, nb: NotebookNode, files: dict[str, bytes], cwd: str, solutions: ReferenceSolutions,
                 reference: ReferenceProcess, settings: RunSettings, verified: tuple[str, ...] | list[str] = (),
                 functions: tuple[str, ...] | list[str] = ()) -> None:
        self.nb, self.settings = nb, settings
        self.process = StudentProcess(files, cwd, settings.limits, settings.uid, settings.sandboxed, settings.bounds)
        self.verdicts = Verdicts(functions, verified)
        self.known_good = KnownGood(self.process, solutions, reference, self.verdicts.verified, settings.timeout,
                                    settings.known_good_time_factor, budget_deadline=None)
        self.keeper = Restarts(self.process, settings.timeout, settings.budget, settings.max_restarts,
                               self.known_good.rebind)
        self.known_good.budget_deadline = self.keeper.budget_deadline
        self.namespace: dict[str, Any] = {"__name__": "__judge__", "__builtins__": builtins}
        self.judge_names: set[str] = set()
        self.execution_count = 0

    def refresh_proxies(self) -> None:
        saved, self.process.phase = self.process.phase, phases.PROXIES
        try:
            reply = self.process.request(protocol.names())
        finally:
            self.process.phase = saved
        names = reply.get("names", {})
        for name in names if isinstance(names, dict) else {}:
            if isinstance(name, str) and name not in self.judge_names and name not in self.known_good.bindings:
                self.namespace[name] = RemoteCallable(self.process, name=name)

    # --- cells --------------------------------------------------------------------------------
    def skipped(self, cell: NotebookNode) -> bool:
        """Student or given cells tagged to skip (experiments, demonstrations): not run, their outputs kept."""
        return cell_role(cell) in ("student", "given") and bool(set(self.settings.skip_tags)
                                                        & set(cell.metadata.get("tags", [])))

    def run(self) -> NotebookNode:
        runnable = [cell for cell in self.nb.cells if cell.cell_type == "code" and not self.skipped(cell)]
        for cell in runnable:          # no output the student wrote may survive in a graded cell
            cell.outputs = []
            cell.execution_count = None
        with judged_helpers(self.process, self.known_good.swap):
            try:
                for cell in runnable:
                    self.execution_count += 1
                    cell.execution_count = self.execution_count
                    self.run_cell(cell)
            finally:
                self.process.stop()
        return self.nb

    def run_cell(self, cell: NotebookNode) -> None:
        role = cell_role(cell)
        if self.keeper.exhausted:
            if role != "given":
                cell.outputs.append(error_output("BudgetExhausted", BUDGET_MESSAGE.format(budget=self.settings.budget)))
            if role == "test":
                self.verdicts.record(cell)
            return
        if role == "given":
            self.run_judge_setup(cell)
        if role in ("given", "student"):
            self.process.phase = phases.GIVEN_CELLS if role == "given" else phases.ANSWER_CELLS
            self.run_student_cell(cell)
        if role == "test":
            self.process.phase = phases.CALLS
            with Stopwatch(self.process.profile, phases.TEST_CELLS):
                self.run_test_cell(cell)
            self.verdicts.record(cell)
            self.verdicts.verified |= self.verdicts.completed(self.nb, cell)

    def _time_error(self, exc: BaseException) -> NotebookNode:
        if isinstance(exc, BudgetExhausted) or self.keeper.exhausted:
            return error_output("BudgetExhausted", BUDGET_MESSAGE.format(budget=self.settings.budget))
        return error_output("CellTimeoutError", CELL_TIMEOUT_MESSAGE.format(timeout=self.settings.timeout))

    def run_student_cell(self, cell: NotebookNode) -> None:
        try:
            self.process.deadline = self.keeper.deadline(self.settings.timeout)
            self.keeper.ensure_process()
            reply = self.process.request(protocol.exec_cell(cell.source))
        except (CellTimeout, BudgetExhausted) as exc:
            cell.outputs.append(self._time_error(exc))
            return
        except StudentProcessDied as exc:
            cell.outputs.append(error_output("StudentProcessDied", str(exc)))
            return
        finally:
            self.process.deadline = None
        self.keeper.replay.append(cell.source)
        show_reply(cell, reply)
        with contextlib.suppress(StudentProcessDied, CellTimeout, BudgetExhausted):
            self.process.deadline = self.keeper.deadline(self.settings.timeout)
            self.refresh_proxies()
        self.process.deadline = None

    def run_judge_setup(self, cell: NotebookNode) -> None:
        """Given (instructor) code also runs here, so test cells see its imports and helpers.

        Calls into student code are refused meanwhile: a given cell's demonstration of the
        student's functions runs in the sandbox, where the student sees its output.
        """
        before = dict(self.namespace)
        self.process.blocked = True
        try:
            with contextlib.redirect_stdout(CappedStdout()), contextlib.redirect_stderr(CappedStdout()):
                run_compiled(cell.source, self.namespace)
        except Exception:  # the student's copy of this cell shows any error in the notebook
            pass
        finally:
            self.process.blocked = False
        self.judge_names |= {k for k, v in self.namespace.items() if k not in before or before[k] is not v}

    def run_test_cell(self, cell: NotebookNode) -> None:
        out = CappedStdout()
        try:
            self.process.deadline = self.keeper.deadline(self.settings.timeout)
            self.keeper.ensure_process()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                value = run_compiled(cell.source, self.namespace)
        except (CellTimeout, BudgetExhausted) as exc:
            if out.getvalue():
                cell.outputs.append(stream(out.getvalue()))
            cell.outputs.append(self._time_error(exc))
            return
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a failing test: its error is the verdict
            if out.getvalue():
                cell.outputs.append(stream(out.getvalue()))
            cell.outputs.append(error_output(type(exc).__name__, str(exc)[:2000]))
            return
        finally:
            self.process.deadline = None
        if out.getvalue():
            cell.outputs.append(stream(out.getvalue()))
        if value is not None:
            cell.outputs.append(result_output(repr(value), cell.execution_count))

"""Composite tests with known-good building blocks: one bug costs its points once.

A test of a composite (a layer utility, a network) wraps its checks in
`nnkit.notebooks.known_good(globals(), notebooks, names)`. While grading, `KnownGood.swap`
stands in for it:

- a building block that passed all of its own tests earlier in this grading run is known to be
  good and the student's own is used; so is a block of an earlier assignment that passed all of
  its tests in the student's grading of that assignment, with the same code
  (grader.pipeline.prerequisites);
- any other listed block is swapped for the instructor's version, and so is the other half of
  its forward/backward pair when the test lists it: a cache only ever goes to the backward pass
  of the forward pass that made it (the cache of batch norm or of a layer utility is the
  student's choice, and the instructor's backward pass cannot read the student's cache, nor the
  student's the instructor's);
- in the judge the test's own calls get the instructor's function; in the sandbox every
  namespace the student's code looks the names up in gets a stub that calls back, and the
  callbacks run in the reference process (`ReferenceProcess`): a sandbox of its own, with the
  student's limits, that never runs student code. Work done on the student's behalf is then
  bounded like the student's own, and a call that would need gigabytes fails there, alone.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any
from collections.abc import Callable

from ..conventions import pair_of
from ..sandbox import protocol, wire
from ..sandbox.launch import REFERENCE, SandboxedProcess
from ..sandbox.limits import Limits
from .channel import StudentProcess
from .errors import CellTimeout, StudentProcessDied


class ReferenceSolutions:
    """The instructor's solution cells of the notebooks a composite test names.

    reference_notebooks: notebook key ("<notebook>.ipynb" of the graded assignment,
    "../<assignment>/<notebook>.ipynb" of another) -> bytes
    """

    def __init__(self, reference_notebooks: dict[str, bytes]) -> None:
        self.notebooks = reference_notebooks
        self._loaded: dict[tuple[str, ...], dict[str, Any]] = {}

    def sources(self, notebooks: list[str]) -> list[tuple[str, str]]:
        """(label, source) of every solution cell of the named notebooks, in order."""
        from nnkit.notebooks import solution_cells

        out = []
        for name in notebooks:
            data = self.notebooks.get(name)
            if data is None:
                continue
            for grade_id, source in solution_cells(json.loads(data)):
                out.append((f"{name.rsplit('/', 1)[-1]}:{grade_id}", source))
        return out

    def scope(self, notebooks: list[str]) -> str:
        """A name for the namespace of these notebooks' solutions (the same content, the same name)."""
        digest = hashlib.sha256()
        for name in notebooks:
            digest.update(name.encode() + b"\0" + self.notebooks.get(name, b""))
        return digest.hexdigest()[:16]

    def load(self, notebooks: list[str]) -> dict[str, Any]:
        """The solutions as functions in this process (for the test's own calls), loaded once."""
        import numpy as np

        key = tuple(notebooks)
        if key not in self._loaded:
            namespace: dict[str, Any] = {"np": np, "__name__": "solutions"}
            for label, source in self.sources(notebooks):
                with contextlib.suppress(Exception):   # a broken solution cell costs only its own names
                    exec(compile(source, f"<{label}>", "exec"), namespace)
            self._loaded[key] = {k: v for k, v in namespace.items() if not k.startswith("_") and k != "np"}
        return self._loaded[key]


class ReferenceProcess:
    """The sandboxed process that answers the student code's calls into known-good building blocks.

    Started on first use and kept for the grading process's later notebooks (it holds only the
    instructor's solutions); restarted, with its scopes loaded again, when it died or overran a
    deadline.
    """

    def __init__(self, limits: Limits, uid: int | None, sandboxed: bool, bounds: wire.Bounds) -> None:
        self.limits, self.uid, self.sandboxed, self.bounds = limits, uid, sandboxed, bounds
        self.process: SandboxedProcess | None = None
        self.scopes: dict[str, list[tuple[str, str]]] = {}
        self.loaded: set[str] = set()
        #: what callbacks reach, innermost last: (scope, names) of each known-good block in effect
        self.active: list[tuple[str, list[str]]] = []

    def _ensure(self) -> SandboxedProcess:
        if self.process is None or self.process.ended():
            self.stop()
            self.process = SandboxedProcess(REFERENCE, self.limits, self.uid, self.sandboxed)
            self.process.start()
            self.loaded = set()
        return self.process

    def _ask(self, message: dict[str, Any], wait: Callable[[int], None]) -> dict[str, Any]:
        process = self._ensure()
        wire.write_message(process.fd, wire.encode(message, bounds=self.bounds))
        reply = wire.decode(wire.read_message(process.fd, wait, self.bounds), bounds=self.bounds)
        return reply if isinstance(reply, dict) else {}

    def enter(self, scope: str, sources: list[tuple[str, str]], names: list[str],
              wait: Callable[[int], None]) -> None:
        """A known-good block begins: serve `names` of the scope's solutions (loaded first if needed)."""
        self.scopes[scope] = sources
        self.active.append((scope, names))
        try:
            self._serve(wait)
        except BaseException:
            self.active.pop()
            raise

    def leave(self, wait: Callable[[int], None]) -> None:
        """The innermost known-good block ends: serve what the blocks around it served."""
        self.active.pop()
        if self.active and self.process is not None and not self.process.ended():
            self._serve(wait)

    def _serve(self, wait: Callable[[int], None]) -> None:
        """Make the process answer for every active block's names, the innermost winning."""
        try:
            self._ensure()
            for index, (scope, names) in enumerate(self.active):
                if scope not in self.loaded:
                    self._ask(protocol.load(scope, self.scopes[scope]), wait)
                    self.loaded.add(scope)
                self._ask(protocol.activate(scope, names, reset=index == 0), wait)
        except (EOFError, OSError, wire.WireError):
            self.stop()
            raise StudentProcessDied("the known-good building blocks could not be started") from None
        except CellTimeout:
            self.stop()
            raise

    def relay(self, payload: bytearray, wait: Callable[[int], None]) -> bytes | bytearray:
        """Answer a callback frame from the student process; returns the answer's payload."""
        try:
            if self.process is None or self.process.ended():   # it died in an earlier call: start again
                self._serve(wait)
            assert self.process is not None
            wire.write_payload(self.process.fd, payload)
            return wire.read_message(self.process.fd, wait, self.bounds)
        except CellTimeout:
            self.stop()
            raise
        except (EOFError, OSError, wire.WireError, StudentProcessDied) as exc:
            description = self.process.exit_description() if self.process is not None else str(exc)
            self.stop()
            message = ("the known-good building block stopped: "
                       + description.replace("the student process", "it"))
            return wire.encode(protocol.callback_result(False, error=message))[wire.LENGTH.size:]

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
        self.process = None
        self.loaded = set()


class KnownGood:
    """The judge's `known_good`: which blocks to swap, and swapping them on both sides.

    Inputs:
    - process: the notebook's StudentProcess
    - solutions: the instructor's solutions of the notebooks a test may name
    - reference: the ReferenceProcess that answers the student code's calls
    - verified: functions that passed all their own tests earlier in this grading run
    - time_factor: a cell that swaps blocks gets this many times its time limit (calls back into
      known-good blocks cost time that is not the student's)
    """

    def __init__(self, process: StudentProcess, solutions: ReferenceSolutions, reference: ReferenceProcess,
                 verified: set[str], timeout: float, time_factor: float, budget_deadline: float | None) -> None:
        self.process, self.solutions, self.reference = process, solutions, reference
        self.verified, self.timeout, self.time_factor = verified, timeout, time_factor
        self.budget_deadline = budget_deadline
        self.bindings: dict[str, Any] = {}   # name -> known-good function, while a block is active

    def names_to_swap(self, names: list[str], namespace: dict[str, Any] | None = None) -> list[str]:
        """The listed names that are not known to be good, and the other halves of their pairs.

        A name known to be good that the student's namespace does not define (an import of an
        earlier notebook that stopped before it) is swapped too: its absence is not this test's bug.
        """
        listed = list(dict.fromkeys(names))
        swap = [n for n in listed if n not in self.verified or (namespace is not None and namespace.get(n) is None)]
        for name in list(swap):
            partner = pair_of(name)
            if partner in listed and partner not in swap:
                swap.append(partner)
        return [n for n in listed if n in swap]

    @contextlib.contextmanager
    def swap(self, namespace: dict[str, Any], notebooks: list[str], names: list[str]) -> Iterator[None]:
        swapped = self.names_to_swap(list(names), namespace)
        if not swapped:
            yield
            return
        if self.process.deadline is not None:   # the judge's share of the work is not the student's time
            extended = time.monotonic() + self.time_factor * self.timeout
            if self.budget_deadline is not None:
                extended = min(extended, self.budget_deadline)
            self.process.deadline = max(self.process.deadline, extended)
        reference = self.solutions.load(list(notebooks))
        missing = [n for n in swapped if n not in reference]
        if missing:
            raise RuntimeError("reference notebooks do not define %s" % ", ".join(missing))
        print(f"     (graded with the known-good {', '.join(swapped)} in place of yours; "
              "yours are graded in their own tests)")
        outer = self.bindings              # a block inside another keeps the outer block's swaps
        new = [n for n in swapped if n not in outer]
        saved = {n: namespace.get(n) for n in swapped}
        self.bindings = {**outer, **{n: reference[n] for n in swapped}}
        namespace.update({n: reference[n] for n in swapped})
        entered = False
        try:
            self.reference.enter(self.solutions.scope(list(notebooks)), self.solutions.sources(list(notebooks)),
                                 swapped, self.process.wait)
            entered = True
            self.process.relay = self.reference.relay
            if new:
                self.process.request(protocol.bind(new))
            yield
        finally:
            self.bindings = outer
            if not outer:
                self.process.relay = None
            with contextlib.suppress(StudentProcessDied, CellTimeout):
                if entered:
                    self.reference.leave(self.process.wait)
                if new and self.process.alive:
                    self.process.request(protocol.unbind(new), restart=False)
            for n, v in saved.items():
                namespace[n] = v

    def rebind(self) -> None:
        """After a restart of the student process inside a swap: bind the swapped names again."""
        if self.bindings:
            self.process.relay = self.reference.relay
            self.process.request(protocol.bind(list(self.bindings)), restart=False)

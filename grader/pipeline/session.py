"""What one submission's grading shares between its notebooks, and with the class loop.

`grade_one` opens a GradingSession for the submission; nbgrader's preprocessors, which nbgrader
instantiates itself, find it with `GradingSession.current()`. It holds the building blocks that
passed their tests so far (composite tests in later notebooks use them as they are), the time
spent per phase, and who to tell which notebook is being graded.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

_current: contextvars.ContextVar[GradingSession | None] = contextvars.ContextVar("grading_session", default=None)


@dataclass
class GradingSession:
    student: str
    assignment: str
    on_notebook: Callable[[str], None] | None = None
    verified: set[str] = field(default_factory=set)
    timings: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    sandbox_starts: int = 0
    #: notebooks whose grades were saved to the gradebook in this grading
    saved: set[str] = field(default_factory=set)
    #: notebook -> phase -> seconds (grader.judge.profile)
    profile: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def current(cls) -> GradingSession | None:
        return _current.get()

    @contextlib.contextmanager
    def active(self) -> Iterator[GradingSession]:
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)

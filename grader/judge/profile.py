"""Where a notebook's execution time goes, by phase (printed by `make bench`)."""
from __future__ import annotations

import time
from collections import defaultdict

SANDBOX_START = "sandbox start"
WORKING_FOLDER = "working folder"
GIVEN_CELLS = "given cells (imports of earlier notebooks)"
ANSWER_CELLS = "answer cells"
REPLAYS = "replays after a death"
PROXIES = "names of new functions"
CALLS = "test cells: calls of student code"
BATCHES = "test cells: numerical-gradient batches"
CALLBACKS = "test cells: known-good callbacks"
TEST_CELLS = "test cells (all)"
JUDGE_CODE = "test cells: the judge's own code"
#: the prefix of a phase's count of events (requests, callbacks) in Profile.finish()
COUNT = "#"
ORDER = (SANDBOX_START, WORKING_FOLDER, GIVEN_CELLS, ANSWER_CELLS, REPLAYS, PROXIES, CALLS, BATCHES, CALLBACKS,
         JUDGE_CODE)


class Profile:
    """Seconds and counts per phase."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.counts: defaultdict[str, int] = defaultdict(int)

    def add(self, phase: str, seconds: float, count: int = 1) -> None:
        self.seconds[phase] += seconds
        self.counts[phase] += count

    def finish(self) -> dict[str, float]:
        """The phases in seconds, the judge's own test code being what the test cells did not spend waiting."""
        out = dict(self.seconds)
        total = out.pop(TEST_CELLS, 0.0)
        out[JUDGE_CODE] = max(0.0, total - out.get(CALLS, 0.0) - out.get(BATCHES, 0.0) - out.get(CALLBACKS, 0.0))
        out.update({COUNT + phase: float(self.counts[phase]) for phase in (CALLS, BATCHES, CALLBACKS)
                    if self.counts[phase]})
        return out


class Stopwatch:
    """A context manager adding its block's duration to a phase of a profile."""

    def __init__(self, profile: Profile, phase: str) -> None:
        self.profile, self.phase, self.start = profile, phase, 0.0

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.profile.add(self.phase, time.perf_counter() - self.start)

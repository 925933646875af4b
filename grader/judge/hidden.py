"""Where the hidden checks of a test cell are: student output printed during them is not shown.

The feedback shows a test cell's output. What the student's code prints while a hidden check
calls it would show the hidden inputs, so it is dropped: a call counts as made by a hidden
check when any frame of the calling stack is a test cell's code at a line between
`### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`.
"""
from __future__ import annotations

import sys

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
HIDDEN_OUTPUT_NOTE = "[what your code printed during a hidden check is not shown]\n"

#: code file name of a compiled test cell -> its hidden line numbers (1-based)
_hidden_lines: dict[str, frozenset[int]] = {}


def hidden_lines(source: str) -> frozenset[int]:
    """The 1-based numbers of the lines inside hidden regions of a cell's source."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside:
            lines.add(number)
    return frozenset(lines)


def register(filename: str, source: str) -> None:
    lines = hidden_lines(source)
    if lines:
        _hidden_lines[filename] = lines


def called_from_hidden_check() -> bool:
    """Whether the current call comes (at any depth) from a hidden region of a test cell."""
    frame = sys._getframe(1)
    while frame is not None:
        lines = _hidden_lines.get(frame.f_code.co_filename)
        if lines is not None and frame.f_lineno in lines:
            return True
        frame = frame.f_back   # type: ignore[assignment]
    return False

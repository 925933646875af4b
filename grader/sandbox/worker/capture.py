"""Running student code with its output captured and its exceptions described."""
from __future__ import annotations

# Student code may replace builtins: keep the originals.
from builtins import BaseException, SyntaxError, isinstance, len, max, min, repr, str, type  # noqa: A004

import io
import sys
import traceback
from collections.abc import Callable
from typing import Any

from ..protocol import ErrorInfo, error_info

OUTPUT_LIMIT = 64 * 1024


class CappedText(io.TextIOBase):
    """A text stream that keeps the first OUTPUT_LIMIT characters and counts the rest."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: Any) -> int:
        text = str(text)
        room = OUTPUT_LIMIT - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more characters]\n"
        return text


class Outcome:
    """What running a piece of student code gave: its value or error, and its output."""

    __slots__ = ("ok", "value", "stdout", "stderr", "error")

    def __init__(self, ok: bool, value: Any, stdout: str, stderr: str, error: ErrorInfo | None) -> None:
        self.ok, self.value, self.stdout, self.stderr, self.error = ok, value, stdout, stderr, error


def run_captured(fn: Callable[[], Any]) -> Outcome:
    """Run fn() with stdout and stderr captured; any exception (SystemExit included) is an error."""
    out, err = CappedText(), CappedText()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        value = fn()
        ok, error = True, None
    except BaseException as exc:  # student code may raise anything
        ok, value, error = False, None, describe(exc)
    finally:
        sys.stdout, sys.stderr = saved
    return Outcome(ok, value, out.getvalue(), err.getvalue(), error)


def describe(exc: BaseException) -> ErrorInfo:
    """An exception as the judge shows it: type, message, and the student's frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<")]
    lines = [f"  {f.filename}, line {f.lineno}, in {f.name}" for f in frames[-5:]]
    if isinstance(exc, SyntaxError):
        lines = [f"  {exc.filename}, line {exc.lineno}: {(exc.text or '').rstrip()}"]
    try:
        message = str(exc)[:2000]
    except BaseException:  # an exception whose __str__ raises
        message = "(unprintable message)"
    return error_info(type(exc).__name__, message, lines)


def safe_repr(value: Any) -> str:
    try:
        return repr(value)[:OUTPUT_LIMIT]
    except BaseException as exc:  # a broken __repr__ in student code
        return f"<unprintable {type(value).__name__}: {type(exc).__name__}>"

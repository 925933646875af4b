"""How a call into student code can end, besides a result or the student's own exception."""


class CellTimeout(BaseException):
    """The cell's time ran out (a BaseException: checks do not swallow it)."""


class BudgetExhausted(BaseException):
    """The notebook's time budget ran out (a BaseException: checks do not swallow it)."""


class StudentCodeError(Exception):
    """An exception raised by student code that has no builtin equivalent here."""


class StudentProcessDied(Exception):
    """The student process ended (sys.exit, os._exit, a crash, a resource limit)."""

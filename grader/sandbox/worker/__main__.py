"""Entry point inside the sandbox: python -m grader.sandbox.worker MODE LIMITS FD."""
from __future__ import annotations

import os
import sys

from ..limits import Limits

from ..limits import NICENESS


def preload() -> None:
    """What nearly every notebook imports, before the first request (pyplot only when used)."""
    import numpy

    numpy.random.seed()   # the first seeding from OS entropy loads its helpers
    from .plots import install_lazy_pyplot

    install_lazy_pyplot()


def main() -> None:
    mode, limits, fd = sys.argv[1], Limits.from_json(sys.argv[2]), int(sys.argv[3])
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)   # output written below Python's sys.stdout goes nowhere
    os.dup2(devnull, 2)
    limits.apply()
    os.nice(NICENESS)   # (the launcher lowers the sandbox's scheduling group too)
    sys.argv = ["notebook"]
    preload()
    if mode == "reference":
        from .reference import ReferenceWorker

        ReferenceWorker(fd).serve()
    else:
        from .server import StudentWorker

        StudentWorker(fd).serve()


if __name__ == "__main__":
    main()

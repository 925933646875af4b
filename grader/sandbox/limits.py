"""Resource limits of a sandboxed process, and setting them from inside the sandbox."""
from __future__ import annotations

import json
import resource
from dataclasses import asdict, dataclass

#: student code runs at a lower CPU priority than the grader: a runaway loop waiting for its
#: time limit then slows the grading of other submissions as little as possible
NICENESS = 10

#: resource.setrlimit names of the limits of a process
_RLIMITS = {"memory_bytes": "RLIMIT_AS", "cpu_seconds": "RLIMIT_CPU", "processes": "RLIMIT_NPROC",
            "file_bytes": "RLIMIT_FSIZE", "open_files": "RLIMIT_NOFILE"}


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed process (hard = soft).

    - memory_bytes: address space (RLIMIT_AS)
    - cpu_seconds: CPU time (RLIMIT_CPU)
    - processes: processes of the sandbox's user (RLIMIT_NPROC)
    - file_bytes: size of any file written (RLIMIT_FSIZE)
    - open_files: open file descriptors (RLIMIT_NOFILE)
    - workdir_bytes: size of the private working folder (a tmpfs) and of /tmp, each
    """

    memory_bytes: int = 4 * 1024 ** 3
    cpu_seconds: int = 600
    processes: int = 64
    file_bytes: int = 64 * 1024 ** 2
    open_files: int = 256
    workdir_bytes: int = 256 * 1024 ** 2

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Limits:
        return cls(**{k: int(v) for k, v in json.loads(text).items() if k in cls.__dataclass_fields__})

    def apply(self) -> None:
        """Set the limits on this process (before any student code runs)."""
        for field, name in _RLIMITS.items():
            value = int(getattr(self, field))
            resource.setrlimit(getattr(resource, name), (value, value))

"""The grader's settings: one traitlets Configurable, set in nbgrader_config.py as `c.GraderSettings.<name>`.

Every knob and its default is stated here once. Environment variables are read only at the
edges (the command line and nbgrader_config.py), never below them.
"""
from __future__ import annotations

from traitlets import Bool, Float, Int, List, Unicode
from traitlets.config import Configurable

from .sandbox import wire
from .sandbox.limits import Limits

MB = 1024 ** 2


class GraderSettings(Configurable):
    """How the kit grades (nbgrader's own settings stay nbgrader's)."""

    cell_timeout = Float(30.0, help="seconds a cell may run before it is stopped (its tests score 0)").tag(config=True)
    notebook_budget = Float(600.0, help="seconds a whole notebook may take, restarts and replays included; "
                                        "then its remaining cells score 0 and later notebooks are graded"
                            ).tag(config=True)
    known_good_time_factor = Float(4.0, help="a cell that swaps in known-good building blocks gets this many "
                                             "times the cell timeout (calls into them are not the student's time)"
                                   ).tag(config=True)
    max_restarts = Int(25, help="how often a notebook's student process may die before the rest of the "
                                "notebook fails").tag(config=True)
    skip_tags = List(Unicode(), ["experiment"], help="student or given cells with these tags (experiments, "
                                                      "demonstrations) are not re-executed (their outputs are kept)"
                     ).tag(config=True)
    allow_unsandboxed = Bool(False, help="run student code without the OS sandbox (not for real classes)"
                             ).tag(config=True)
    dask_scheduler = Unicode("", help="address of a Dask scheduler to run executions on ('' = this machine)"
                             ).tag(config=True)
    memory_mb = Int(4096, help="address space of a student process, MB").tag(config=True)
    reference_memory_mb = Int(1536, help="address space of the process that runs known-good building blocks "
                                         "for student code, MB").tag(config=True)
    cpu_seconds = Int(600, help="CPU time of a student process, seconds").tag(config=True)
    processes = Int(64, help="processes of a sandbox's user").tag(config=True)
    file_mb = Int(64, help="size of any file a student process writes, MB").tag(config=True)
    open_files = Int(256, help="open files of a student process").tag(config=True)
    workdir_mb = Int(256, help="size of a sandbox's working folder and of its /tmp, MB each").tag(config=True)
    max_file_mb = Int(20, help="larger files of a submission are ignored (with a message)").tag(config=True)
    max_message_mb = Int(64, help="the largest message between the judge and a sandbox, MB").tag(config=True)
    first_uid = Int(61000, help="sandboxes run as unused user ids from this one up (when grading as root)"
                    ).tag(config=True)
    uid_count = Int(4000, help="how many user ids the sandboxes may use").tag(config=True)

    def limits(self) -> Limits:
        return Limits(memory_bytes=self.memory_mb * MB, cpu_seconds=self.cpu_seconds, processes=self.processes,
                      file_bytes=self.file_mb * MB, open_files=self.open_files, workdir_bytes=self.workdir_mb * MB)

    def reference_limits(self) -> Limits:
        return Limits(memory_bytes=min(self.memory_mb, self.reference_memory_mb) * MB, cpu_seconds=self.cpu_seconds,
                      processes=self.processes, file_bytes=self.file_mb * MB, open_files=self.open_files,
                      workdir_bytes=16 * MB)

    def bounds(self) -> wire.Bounds:
        return wire.Bounds(message_bytes=self.max_message_mb * MB)

    def as_dict(self) -> dict[str, object]:
        """The settings as plain data (for a job shipped to another machine)."""
        return {name: getattr(self, name) for name in self.trait_names(config=True)}

"""The OS sandbox for student code: bubblewrap, an unprivileged user, resource limits.

Inside, the student process sees a read-only system (/usr, the Python install
and its packages), a private writable copy of its own submission, an empty /tmp,
no network, and its own process, IPC and host-name namespaces. It runs as an
unprivileged user with limits on memory, CPU time, processes, file size and
open files. Nothing else of the machine (other submissions, the gradebook, the
source notebooks, the instructor's home) exists in its view.
"""
import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

WORKER_DIR = Path(__file__).resolve().parent
WORKER_FILES = ("wire.py", "student_worker.py")
INSIDE_WORKDIR = "/home/student/work"
INSIDE_WORKER_DIR = "/opt/grader"


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made on this machine."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one student process."""
    memory_bytes: int = 4 * 1024 ** 3
    cpu_seconds: int = 600
    processes: int = 64
    file_bytes: int = 64 * 1024 ** 2
    open_files: int = 256

    def environment(self):
        return {"GRADER_LIMIT_MEMORY": str(self.memory_bytes), "GRADER_LIMIT_CPU": str(self.cpu_seconds),
                "GRADER_LIMIT_PROCESSES": str(self.processes), "GRADER_LIMIT_FILE_SIZE": str(self.file_bytes),
                "GRADER_LIMIT_OPEN_FILES": str(self.open_files)}


def base_environment(limits):
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": "/tmp", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONPATH": INSIDE_WORKER_DIR}
    env.update(limits.environment())
    return env


def kill_process_group(proc):
    """Kill a sandbox started with start_new_session (and everything in it) and reap it."""
    import contextlib
    import signal

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _python_roots():
    """Folders the interpreter needs, read-only: the venv and the base installation."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent.parent}
    return sorted(r for r in roots if not str(r).startswith("/usr"))


def bwrap_command(workdir, uid, limits, python=None):
    """The bubblewrap command line that runs the student worker on `workdir`."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: run `make setup` or apt-get install bubblewrap")
    cmd = [bwrap, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--clearenv",
           "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
           "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    made = set()
    for root in _python_roots() + [Path(INSIDE_WORKDIR), Path(INSIDE_WORKER_DIR) / "x"]:
        for parent in reversed(root.parents[:-1]):
            if str(parent) not in made:
                cmd += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
    for root in _python_roots():
        cmd += ["--ro-bind", str(root), str(root)]
    for name in WORKER_FILES:
        cmd += ["--ro-bind", str(WORKER_DIR / name), f"{INSIDE_WORKER_DIR}/{name}"]
    cmd += ["--bind", str(workdir), INSIDE_WORKDIR, "--chdir", INSIDE_WORKDIR]
    for key, value in base_environment(limits).items():
        cmd += ["--setenv", key, value]
    cmd += ["--", shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}",
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
            python or sys.executable, f"{INSIDE_WORKER_DIR}/student_worker.py"]
    return cmd


def unsandboxed_command(workdir, limits, python=None):
    """The student worker as a plain child process (only when the instructor opts out)."""
    return [python or sys.executable, str(WORKER_DIR / "student_worker.py")]


@functools.lru_cache(maxsize=None)
def sandbox_works():
    """Whether bubblewrap can make the sandbox here; returns (ok, reason)."""
    try:
        probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"grader-probe-{os.getpid()}"
        probe.mkdir(exist_ok=True)
        os.chmod(probe, 0o777)
        cmd = bwrap_command(probe, 65500, Limits())
        cmd[len(cmd) - 1 - cmd[::-1].index(f"{INSIDE_WORKER_DIR}/student_worker.py")] = "-c"
        cmd.append("import numpy, os; open('ok', 'w').write(str(os.getuid()))")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        ok = proc.returncode == 0 and (probe / "ok").read_text() == "65500"
        reason = "" if ok else (proc.stderr.strip() or f"exit status {proc.returncode}")
        shutil.rmtree(probe, ignore_errors=True)
        return ok, reason
    except (SandboxUnavailable, OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)

"""The bubblewrap command line of a sandboxed process.

Inside, the process sees a read-only system (/usr), the Python runtime and its packages at
neutral paths (/opt/python, /opt/site-packages), the sandbox code at /opt/kit, a private
size-limited working folder (/home/student/work) and /tmp (both tmpfs, empty at start), no
network, and its own process, IPC and host-name namespaces. It has no /proc: the mount table
and the command lines of a sandbox would name host paths, and nothing a notebook does needs
them. Its environment is fixed (no host facts). When the grader runs as root, the process runs
as an unprivileged user id with no capabilities and no way to gain any.

Nothing of the host is writable from inside, so the grader never writes into a folder that
student code could have changed: a sandbox's working folder is written by the sandboxed
worker itself, from the files the judge sends, and it vanishes with the sandbox.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from .limits import Limits

INSIDE_PYTHON = "/opt/python"
INSIDE_SITE_PACKAGES = "/opt/site-packages"
INSIDE_KIT = "/opt/kit"
INSIDE_WORKDIR = "/home/student/work"
SANDBOX_PACKAGE = Path(__file__).resolve().parent
#: the module run inside the sandbox
WORKER_MODULE = "grader.sandbox.worker"


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made on this machine."""


@dataclass(frozen=True)
class Runtime:
    """Where the sandbox finds its interpreter, outside (host paths) and inside (neutral paths).

    - python_root: the base installation of this interpreter (bound at /opt/python unless it
      is under /usr, which the sandbox sees as it is)
    - executable: the interpreter's path inside the sandbox
    - site_packages: this environment's packages (numpy, matplotlib, ...), bound at /opt/site-packages
    """

    python_root: Path
    executable: str
    site_packages: Path

    @classmethod
    def current(cls) -> Runtime:
        root = Path(sys.base_prefix).resolve()
        base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
        if _under_usr(root):
            executable = str(base)
        else:
            try:
                executable = f"{INSIDE_PYTHON}/{base.relative_to(root)}"
            except ValueError:   # an interpreter outside its prefix: use the prefix's own
                executable = f"{INSIDE_PYTHON}/bin/python{sys.version_info.major}.{sys.version_info.minor}"
        return cls(root, executable, Path(sysconfig.get_paths()["purelib"]).resolve())

    def binds(self) -> list[tuple[str, str]]:
        """(host path, inside path) of every read-only bind besides /usr."""
        binds = [] if _under_usr(self.python_root) else [(str(self.python_root), INSIDE_PYTHON)]
        binds.append((str(self.site_packages), INSIDE_SITE_PACKAGES))
        binds.append((str(SANDBOX_PACKAGE), f"{INSIDE_KIT}/grader/sandbox"))
        return binds


def _under_usr(path: Path) -> bool:
    return path == Path("/usr") or Path("/usr") in path.parents


def environment() -> dict[str, str]:
    """The whole environment of a sandboxed process: fixed values, no host facts."""
    return {"PATH": "/usr/bin:/bin", "HOME": INSIDE_WORKDIR, "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": "/tmp", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1",
            "PYTHONPATH": f"{INSIDE_KIT}:{INSIDE_SITE_PACKAGES}"}


def worker_arguments(mode: str, limits: Limits, fd: int) -> list[str]:
    """The worker's own command line (after the interpreter)."""
    return ["-m", WORKER_MODULE, mode, limits.to_json(), str(fd)]


def bwrap_arguments(runtime: Runtime, limits: Limits, uid: int | None, command: list[str]) -> list[str]:
    """bubblewrap's arguments (after `bwrap`) to run `command` (its first item the interpreter, inside).

    uid: the unprivileged user to run as (the grader runs as root), or None: bubblewrap's own
    user namespace (the grader runs as a user for whom bubblewrap works).
    """
    args = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--clearenv",
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin", "--dev", "/dev",
            "--perms", "1777", "--size", str(limits.workdir_bytes), "--tmpfs", "/tmp"]
    if uid is None:
        args += ["--unshare-user", "--uid", "1000", "--gid", "1000"]
    made: set[str] = set()
    for _, inside in runtime.binds() + [("", INSIDE_WORKDIR)]:
        for parent in reversed(Path(inside).parents[:-1]):
            if str(parent) not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
    for host, inside in runtime.binds():
        args += ["--ro-bind", host, inside]
    args += ["--perms", "1777", "--size", str(limits.workdir_bytes), "--tmpfs", INSIDE_WORKDIR,
             "--chdir", INSIDE_WORKDIR]
    for key, value in environment().items():
        args += ["--setenv", key, value]
    args.append("--")
    if uid is not None:
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        args += [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", "--no-new-privs"]
    return args + command


def bwrap_path() -> str:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: run `make setup` or apt-get install bubblewrap")
    return bwrap


def sandbox_user() -> bool:
    """Whether sandboxes run as a separate unprivileged user id (the grader runs as root)."""
    return os.geteuid() == 0


@functools.cache
def sandbox_works(probe_uid: int = 65500) -> tuple[bool, str]:
    """Whether bubblewrap can make the sandbox here, with numpy importable; returns (ok, reason)."""
    runtime = Runtime.current()
    uid = probe_uid if sandbox_user() else None
    code = "import numpy, os; print('sandbox ok', os.getuid(), os.path.exists('/proc/self'))"
    try:
        cmd = [bwrap_path(), *bwrap_arguments(runtime, Limits(), uid, [runtime.executable, "-c", code])]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (SandboxUnavailable, OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    expected = f"sandbox ok {uid if uid is not None else 1000} False"
    if proc.returncode == 0 and proc.stdout.strip() == expected:
        return True, ""
    return False, (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}")[-500:]

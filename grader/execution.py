"""One notebook's split execution as a job of plain data, runnable here or on another machine.

A Job carries everything the execution needs as bytes and text: the sanitized
notebook, the student's notebooks (later notebooks import earlier answers), the
assignment's support files and the instructor's notebooks (known-good parts for
composite tests). `run_job` needs no shared disk, so the same job runs in this
process or on a Dask worker.
"""
import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field

import nbformat


@dataclass
class Job:
    notebook: str                                        # the sanitized notebook, as JSON text
    student_files: dict = field(default_factory=dict)    # relative path -> bytes (untrusted)
    support_files: dict = field(default_factory=dict)    # relative path -> bytes (the assignment's files)
    reference_notebooks: dict = field(default_factory=dict)  # file name -> bytes (instructor solutions)
    settings: dict = field(default_factory=dict)         # timeout, skip_tags, limits, allow_unsandboxed, uid


def notebook_to_text(nb):
    """A notebook as JSON text, without re-validating it (nbgrader validated it when it read it)."""
    return json.dumps(nb)


def notebook_from_text(text):
    """The notebook (an nbformat NotebookNode) from notebook_to_text's JSON."""
    return nbformat.from_dict(json.loads(text))


def read_files(folder, accept, max_bytes, follow_symlinks):
    """relative path -> bytes of the regular files under folder that `accept(name)`, each <= max_bytes."""
    files = {}
    if not os.path.isdir(folder):
        return files
    for root, dirs, names in os.walk(folder, followlinks=follow_symlinks):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        for name in names:
            path = os.path.join(root, name)
            info = os.stat(path) if follow_symlinks else os.lstat(path)
            if stat.S_ISREG(info.st_mode) and info.st_size <= max_bytes and accept(name):
                with open(path, "rb") as f:
                    files[os.path.relpath(path, folder)] = f.read()
    return files


def pack_job(nb, submission_dir, source_dir, settings, max_bytes=20 * 1024 ** 2):
    """The Job for notebook `nb` of the submission in submission_dir (assignment source in source_dir)."""
    return Job(
        notebook=notebook_to_text(nb),
        student_files=read_files(submission_dir, lambda n: n.endswith(".ipynb"), max_bytes, False),
        support_files=read_files(source_dir, lambda n: not n.endswith(".ipynb"), max_bytes, True),
        reference_notebooks={n: v for n, v in read_files(source_dir, lambda n: n.endswith(".ipynb"),
                                                        max_bytes, True).items() if os.sep not in n},
        settings=dict(settings),
    )


def _write_files(folder, files):
    for rel, data in files.items():
        target = os.path.normpath(os.path.join(folder, rel))
        if not target.startswith(folder + os.sep):
            continue  # a path that would escape the folder
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)


_references = {}


def reference_loader(reference_notebooks):
    """A callable(notebook names) -> dict of the instructor's solutions, cached by content."""
    from nnkit.notebooks import import_solutions

    digest = hashlib.sha256(b"".join(k.encode() + v for k, v in sorted(reference_notebooks.items()))).hexdigest()

    def load(names):
        key = (digest, tuple(names))
        if key not in _references:
            folder = tempfile.mkdtemp(prefix="grader-reference-")
            try:
                _write_files(folder, {n: reference_notebooks[n] for n in names if n in reference_notebooks})
                _references[key] = import_solutions(*(os.path.join(folder, n) for n in names), verbose=False)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        return _references[key]

    return load


class _SharedSandbox(threading.local):
    """The sandbox of the submission being graded in this thread (see one_sandbox_per_submission)."""
    active = False
    workdir = None
    zygote = None
    key = None


_shared = _SharedSandbox()


@contextlib.contextmanager
def one_sandbox_per_submission():
    """Within this block, run_job forks every notebook's student process from one warm sandbox.

    Use it around the grading of one submission (all its notebooks): the sandbox starts once
    (Python, numpy, matplotlib imported once) instead of once per notebook, and is torn down,
    with everything the student's code started or wrote, when the block ends. Each notebook
    still gets a fresh process and a freshly written working folder.
    """
    if _shared.active:
        yield
        return
    _shared.active, _shared.workdir = True, tempfile.mkdtemp(prefix="grader-work-")
    try:
        yield
    finally:
        if _shared.zygote is not None:
            _shared.zygote.stop()
        shutil.rmtree(_shared.workdir, ignore_errors=True)
        _shared.active, _shared.workdir, _shared.zygote, _shared.key = False, None, None, None


def _empty(folder):
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _zygote_for(sandboxed, uid, limits):
    """The shared sandbox's zygote for these settings, or None (no shared sandbox, or other settings)."""
    from .zygote import Zygote

    if not _shared.active:
        return None
    key = (sandboxed, uid, limits)
    if _shared.zygote is None:
        _shared.zygote, _shared.key = Zygote(_shared.workdir, sandboxed, uid, limits), key
    return _shared.zygote if _shared.key == key else None


def run_job(job):
    """Execute a Job; returns (the executed notebook as JSON text, seconds spent, functions that passed).

    `settings["verified"]` lists building blocks already known to be correct (all their
    tests passed earlier in this grading run): composite tests use them as they are.
    Inside one_sandbox_per_submission, the student process is forked from the submission's sandbox.
    """
    from .judge import NotebookRun
    from .sandbox import Limits, sandbox_works

    start = time.perf_counter()
    settings = job.settings
    sandboxed, reason = sandbox_works()
    if not sandboxed and not settings.get("allow_unsandboxed"):
        raise RuntimeError("no sandbox can be made for student code (%s); install bubblewrap, or set "
                           "GRADER_ALLOW_UNSANDBOXED=1 to grade without one at your own risk" % reason)
    uid = settings.get("uid", 61000)
    limits = Limits(**settings.get("limits", {}))
    zygote = _zygote_for(sandboxed, uid, limits)
    if zygote is not None:
        workdir = _shared.workdir
        _empty(workdir)     # the same folder (the sandbox has it bound), fresh contents
    else:
        workdir = tempfile.mkdtemp(prefix="grader-work-")
    try:
        _write_files(workdir, job.student_files)
        _write_files(workdir, job.support_files)
        if sandboxed and os.geteuid() == 0:
            for root, dirs, files in os.walk(workdir):
                os.chown(root, uid, uid)
                for name in files:
                    os.chown(os.path.join(root, name), uid, uid)
        os.chmod(workdir, 0o755)
        nb = notebook_from_text(job.notebook)
        run = NotebookRun(nb, workdir, reference_loader(job.reference_notebooks), timeout=settings.get("timeout", 30),
                          sandboxed=sandboxed, uid=uid, limits=limits, zygote=zygote,
                          skip_tags=settings.get("skip_tags", ()), verified=settings.get("verified", ()),
                          functions=settings.get("functions", ()))
        run.run()
        return notebook_to_text(nb), time.perf_counter() - start, sorted(run.passed_functions())
    finally:
        if zygote is None:
            shutil.rmtree(workdir, ignore_errors=True)

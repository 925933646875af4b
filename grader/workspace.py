"""The student's private working folder for one sandboxed run."""
import contextlib
import os
import shutil
import stat
import tempfile


def _copy_regular_files(src_dir, dest_dir, pattern_ok, max_bytes, follow_symlinks):
    """Copy regular files (never device files; symlinks only when trusted) from src_dir into dest_dir."""
    if not os.path.isdir(src_dir):
        return
    for root, dirs, files in os.walk(src_dir, followlinks=follow_symlinks):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        for name in files:
            path = os.path.join(root, name)
            info = os.stat(path) if follow_symlinks else os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes or not pattern_ok(name):
                continue
            target = os.path.join(dest_dir, os.path.relpath(path, src_dir))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(path, target)


@contextlib.contextmanager
def student_workspace(submission_dir, source_dir, uid, max_bytes):
    """A temporary folder with the student's notebooks and the assignment's support files.

    Inputs:
    - submission_dir: submitted/<student>/<assignment> (untrusted: only regular .ipynb files are taken)
    - source_dir: source/<assignment> (trusted: its non-notebook files, e.g. the nnkit package)
    - uid: owner for the folder (the sandbox user), or None to keep the current user
    - max_bytes: files larger than this are left out
    """
    workdir = tempfile.mkdtemp(prefix="grader-work-")
    try:
        _copy_regular_files(submission_dir, workdir, lambda n: n.endswith(".ipynb"), max_bytes, False)
        _copy_regular_files(source_dir, workdir, lambda n: not n.endswith(".ipynb"), max_bytes, True)
        if uid is not None and os.geteuid() == 0:
            for root, dirs, files in os.walk(workdir):
                os.chown(root, uid, uid)
                for name in files:
                    os.chown(os.path.join(root, name), uid, uid)
        os.chmod(workdir, 0o755)
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

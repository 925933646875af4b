"""Stage submissions for grading: what nbgrader sees is a checked copy, never the original.

Student folders under submitted/ are never changed. Each submission is copied to
the staging folder (`.staged/<student>/<assignment>/`) with:
- only regular files (no links, devices or folders of links), each under a size limit;
- only notebooks that parse as nbformat 4 JSON in UTF-8; a broken one is left out
  (nbgrader then scores that notebook 0) with a message;
- a notebook saved under another name (``01_layers (1).ipynb``) taken under its
  expected name when it unmistakably holds that notebook's answer cells;
- the nbgrader metadata of duplicated answer cells removed from the copies, so a
  copy-pasted cell cannot break grading (its code still runs).
The messages are returned and recorded for the report and the student's feedback.
"""
import functools
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

STAGED = ".staged"


@dataclass
class Preflight:
    student_id: str
    assignment: str
    messages: list = field(default_factory=list)


def _read_notebook(path):
    """The notebook at path, or raise ValueError with a reason."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})")
    try:
        nb = nbformat.reads(text, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise ValueError(f"the file is not valid notebook JSON ({str(exc).splitlines()[0][:200]})")
    except Exception as exc:  # nbformat rejects many other malformed structures
        raise ValueError(f"the file is not a readable notebook ({type(exc).__name__}: {str(exc)[:200]})")
    if not isinstance(nb.get("cells"), list):
        raise ValueError("the notebook has no list of cells")
    return nb


def read_course_notebook(path):
    """A notebook of the course's own (source/, release/), parsed once per version of the file.

    Callers share the result: they must not change it.
    """
    info = os.stat(path)
    return _parsed_notebook(str(path), info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=64)
def _parsed_notebook(path, mtime_ns, size):
    return nbformat.read(path, as_version=4)


def _answer_ids(nb):
    return {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")} - {None}


def _drop_duplicate_grade_ids(nb, name, messages):
    seen = set()
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            messages.append(f"{name}: a second cell with the id of answer cell '{grade_id}' was graded as ordinary code")
        seen.add(grade_id)
    return nb


def stage_submission(course, assignment, student, max_bytes=20 * 1024 * 1024):
    """Copy submitted/<student>/<assignment> into the staging folder; returns a Preflight."""
    report = Preflight(student, assignment)
    src = course.submitted_dir / student / assignment
    dest = course.root / STAGED / student / assignment
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    expected = {p.name: _answer_ids(read_course_notebook(p)) for p in course.release_notebooks(assignment)}
    unknown = {}
    for path in sorted(src.rglob("*")) if src.is_dir() else []:
        rel = path.relative_to(src)
        info = path.lstat()
        if stat.S_ISDIR(info.st_mode):
            continue
        if not stat.S_ISREG(info.st_mode):
            report.messages.append(f"{rel}: not a regular file (a link or a device); ignored")
            continue
        if info.st_size > max_bytes:
            report.messages.append(f"{rel}: {info.st_size / 1024 ** 2:.0f} MB is over the {max_bytes / 1024 ** 2:.0f} MB "
                                   "limit for a submitted file; ignored")
            continue
        if path.suffix != ".ipynb":
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
            continue
        try:
            nb = _read_notebook(path)
        except ValueError as exc:
            report.messages.append(f"{rel}: {exc}; this notebook scores 0")
            continue
        notes = len(report.messages)
        nb = _drop_duplicate_grade_ids(nb, str(rel), report.messages)
        if len(rel.parts) == 1 and rel.name in expected:
            if len(report.messages) == notes and "orig_nbformat" not in nb.metadata:
                shutil.copyfile(path, dest / rel)   # readable and unchanged: the student's own bytes
            else:
                nbformat.write(nb, dest / rel)
        else:
            unknown[rel] = nb
    for name, answer_ids in expected.items():
        if (dest / name).exists() or not answer_ids:
            continue
        matches = [rel for rel, nb in unknown.items() if answer_ids <= _answer_ids(nb)]
        if len(matches) == 1:
            nbformat.write(unknown.pop(matches[0]), dest / name)
            report.messages.append(f"{matches[0]} was graded as {name} (it holds that notebook's answers)")
        else:
            report.messages.append(f"{name} is missing from the submission; it scores 0")
    for rel in unknown:
        report.messages.append(f"{rel}: not a notebook of this assignment; ignored")
    os.chmod(dest, 0o755)
    return report

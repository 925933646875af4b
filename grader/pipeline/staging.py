"""Stage submissions for grading: what nbgrader sees is a checked copy, never the original.

Student folders under submitted/ are never changed. Each submission is copied to the staging
folder (`.staged/<student>/<assignment>/`) with:
- only regular files (no links, devices or folders of links), each under a size limit, read
  without following links;
- only notebooks that parse as nbformat 4 JSON in UTF-8; a broken one is left out
  (nbgrader then scores that notebook 0) with a message;
- a notebook saved under another name (``<notebook> (1).ipynb``) taken under its
  expected name when it unmistakably holds that notebook's answer cells;
- the nbgrader metadata of duplicated answer cells removed from the copies, so a
  copy-pasted cell cannot break grading (its code still runs);
- the nbgrader metadata of every cell as released: a student cannot change a cell's points or
  role, and metadata nbgrader cannot read (which would stop the grading of that notebook and of
  the ones after it) is put back as released, or removed from cells the release does not have.
The messages are returned and recorded for the report and the student's feedback.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat.notebooknode import NotebookNode

from ..course import STAGED, read_course_notebook
from .files import read_regular

if TYPE_CHECKING:
    from ..course import Course


@dataclass
class Preflight:
    student_id: str
    assignment: str
    messages: list[str] = field(default_factory=list)


def parse_notebook(data: bytes) -> NotebookNode:
    """The notebook in `data`, or raise ValueError with a reason."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        nb = nbformat.reads(text, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise ValueError(f"the file is not valid notebook JSON ({str(exc).splitlines()[0][:200]})") from exc
    except Exception as exc:  # nbformat rejects many other malformed structures
        raise ValueError(f"the file is not a readable notebook ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if not isinstance(nb.get("cells"), list):
        raise ValueError("the notebook has no list of cells")
    return nb


def _answer_ids(nb: NotebookNode) -> set[str]:
    return {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")} - {None}


def _drop_duplicate_grade_ids(nb: NotebookNode, name: str, messages: list[str]) -> NotebookNode:
    seen = set()
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            messages.append(f"{name}: a second cell with the id of answer cell '{grade_id}' was graded as "
                            "ordinary code")
        seen.add(grade_id)
    return nb


def _restore_metadata(nb: NotebookNode, released: NotebookNode, name: str, messages: list[str]) -> NotebookNode:
    """Every cell's nbgrader metadata as in the released notebook (or none, for cells it does not have)."""
    metadata = {c.metadata["nbgrader"].get("grade_id"): c.metadata["nbgrader"] for c in released.cells
                if isinstance(c.metadata.get("nbgrader"), dict)}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if isinstance(grade_id, str) and grade_id in metadata:
            if meta != metadata[grade_id]:
                cell.metadata["nbgrader"] = copy.deepcopy(metadata[grade_id])
                messages.append(f"{name}: the grading metadata of cell '{grade_id}' was changed; "
                                "the released metadata was used")
        else:
            del cell.metadata["nbgrader"]
            messages.append(f"{name}: a cell had grading metadata the release does not have; "
                            "it was graded as ordinary content")
    return nb


def _walk(src: Path) -> list[tuple[Path, os.stat_result]]:
    """(relative path, lstat) of everything under src, without following links."""
    found = []
    stack = [Path()]
    while stack:
        rel = stack.pop()
        try:
            entries = list(os.scandir(src / rel))
        except OSError:
            continue
        for entry in entries:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                stack.append(rel / entry.name)
            else:
                found.append((rel / entry.name, info))
    return sorted(found)


def stage_submission(course: Course, assignment: str, student: str, max_bytes: int = 20 * 1024 ** 2) -> Preflight:
    """Copy submitted/<student>/<assignment> into the staging folder; returns a Preflight."""
    report = Preflight(student, assignment)
    src = course.submitted_dir / student / assignment
    dest = course.root / STAGED / student / assignment
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    released = {p.name: read_course_notebook(p) for p in course.release_notebooks(assignment)}
    expected = {name: _answer_ids(nb) for name, nb in released.items()}
    unknown: dict[Path, NotebookNode] = {}
    for rel, info in _walk(src) if src.is_dir() and not src.is_symlink() else []:
        if not stat.S_ISREG(info.st_mode):
            report.messages.append(f"{rel}: not a regular file (a link or a device); ignored")
            continue
        if info.st_size > max_bytes:
            size, limit = info.st_size / 1024 ** 2, max_bytes / 1024 ** 2
            report.messages.append(f"{rel}: {size:.0f} MB is over the {limit:.0f} MB "
                                   "limit for a submitted file; ignored")
            continue
        data = read_regular(src / rel, max_bytes)
        if data is None:
            report.messages.append(f"{rel}: not a regular file (a link or a device); ignored")
            continue
        if rel.suffix != ".ipynb":
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_bytes(data)
            continue
        try:
            nb = parse_notebook(data)
        except ValueError as exc:
            report.messages.append(f"{rel}: {exc}; this notebook scores 0")
            continue
        notes = len(report.messages)
        nb = _drop_duplicate_grade_ids(nb, str(rel), report.messages)
        if len(rel.parts) == 1 and rel.name in released:
            nb = _restore_metadata(nb, released[rel.name], str(rel), report.messages)
        if len(rel.parts) == 1 and rel.name in expected:
            if len(report.messages) == notes and "orig_nbformat" not in nb.metadata:
                (dest / rel).write_bytes(data)   # readable and unchanged: the student's own bytes
            else:
                nbformat.write(nb, dest / rel)
        else:
            unknown[rel] = nb
    for name, answer_ids in expected.items():
        if (dest / name).exists() or not answer_ids:
            continue
        matches = [rel for rel, nb in unknown.items() if answer_ids <= _answer_ids(nb)]
        if len(matches) == 1:
            nbformat.write(_restore_metadata(unknown.pop(matches[0]), released[name], str(matches[0]),
                                             report.messages), dest / name)
            report.messages.append(f"{matches[0]} was graded as {name} (it holds that notebook's answers)")
        else:
            report.messages.append(f"{name} is missing from the submission; it scores 0")
    for rel in unknown:
        report.messages.append(f"{rel}: not a notebook of this assignment; ignored")
    os.chmod(dest, 0o755)
    return report

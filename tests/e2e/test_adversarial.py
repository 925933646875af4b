"""The adversarial corpus graded together with honest students: every grade as expected,
honest grades unchanged, nothing outside the sandbox read or written, the gradebook intact."""
import csv
import hashlib
import html
import re
import socket
import sqlite3
import threading
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

from adversarial.corpus import ASSIGNMENT, SECRET, attacks, build_attack
from conftest import catalog, copy_course, needs_sandbox, run_grader
from grader.conventions import function_of_test
from grader.course import Course
from grader.quality.submissions import build_submission, solution_sources

pytestmark = needs_sandbox

HONEST = {"full_marks": (), "momentum_sign": ("sgd_momentum",)}


class ConnectionRecorder:
    """A TCP server on the grading machine's loopback that records every connection."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.connections, self.running = [], True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                conn, address = self.server.accept()
                self.connections.append(address)
                conn.close()
            except OSError:
                continue

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.server.close()


def snapshot(root):
    """Hashes of every file under source/, release/ and submitted/ (links not followed)."""
    hashes = {}
    for folder in ("source", "release", "submitted", "assignments"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_symlink():
                hashes[str(path)] = "link:" + str(path.readlink())
            elif path.is_file():
                hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    hashes["instructor_secret"] = hashlib.sha256((root / "instructor_secret.txt").read_bytes()).hexdigest()
    return hashes


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("course"), assignments=(ASSIGNMENT,))
    course = Course(root)
    run_grader(root, "release")
    victim = build_submission(course, ASSIGNMENT, "full_marks")
    (victim / "secret.txt").write_text(SECRET)
    (root / "instructor_secret.txt").write_text(SECRET)
    build_submission(course, ASSIGNMENT, "momentum_sign",
                     replacements={"sgd_momentum_solution": catalog().MOMENTUM_SIGN.source})
    recorder = ConnectionRecorder()
    context = {"course": root, "victim": victim, "port": recorder.port, "victim_notebook": victim / "01_layers.ipynb"}
    corpus = attacks(solution_sources(course, ASSIGNMENT))
    for attack in corpus:
        build_attack(course, attack, context)
    before = snapshot(root)
    outputs = {step: run_grader(root, step) for step in ("autograde", "feedback", "grades", "report")}
    recorder.close()
    return course, corpus, before, snapshot(root), recorder.connections, outputs


def scores(course):
    table = defaultdict(list)
    with open(course.reports_dir / "grades_by_test.csv", newline="") as f:
        for row in csv.DictReader(f):
            table[row["student_id"]].append((row["notebook"], row["grade_id"], float(row["score"]),
                                             float(row["max_score"])))
    return table


def check_expected(course, student, loses=(), zero_notebooks=()):
    functions = course.graded_functions(ASSIGNMENT)
    rows = scores(course)[student]
    assert rows, f"no grades for {student}"
    losing = set()
    for notebook, grade_id, score, max_score in rows:
        function = function_of_test(grade_id, functions)
        if notebook in zero_notebooks:
            assert score == 0, f"{student}: {grade_id} should score 0, got {score}"
        elif function in loses:
            if score < max_score:
                losing.add(function)
        else:
            assert score == max_score, f"{student} lost points on {grade_id}: {score}/{max_score}"
    assert losing == set(loses), f"{student}: expected {set(loses)} to lose points, lost on {losing}"


def test_the_corpus_is_large_enough(graded):
    _, corpus, *_ = graded
    assert len(corpus) >= 20 and len({a.student_id for a in corpus}) == len(corpus)


@pytest.mark.parametrize("index", range(24))
def test_each_attack_gets_its_expected_grade(graded, index):
    course, corpus, *_ = graded
    attack = corpus[index]
    check_expected(course, attack.student_id, attack.loses, attack.zero_notebooks)


@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_students_are_graded_as_if_alone(graded, student):
    course, *_ = graded
    check_expected(course, student, HONEST[student])


def _all_text(folder):
    """What student code printed: the outputs of the notebooks under folder (not their source)."""
    texts = []
    for path in folder.rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                texts.append(output.get("text", "") + output.get("evalue", "") + str(output.get("data", "")))
    return "\n".join(texts)


def test_nothing_outside_the_sandbox_was_read(graded):
    course, corpus, *_ = graded
    for attack in corpus:
        folder = course.autograded_dir / attack.student_id
        if folder.exists():
            text = _all_text(folder)
            assert SECRET not in text, f"{attack.student_id} read a secret"
            assert "LEAKED" not in text and "WROTE" not in text and "REMOVED" not in text
        for page in (course.feedback_dir / attack.student_id).rglob("*.html"):
            assert SECRET not in page.read_text(encoding="utf-8", errors="replace")
    probe = _all_text(course.autograded_dir / "read_other_students")
    assert probe.count("blocked") >= 6, "the read probe did not run"


def test_nothing_outside_the_sandbox_was_written(graded):
    _, _, before, after, *_ = graded
    assert before == after


def test_no_network_connection_reached_the_machine(graded):
    course, _, _, _, connections, _ = graded
    assert connections == []
    assert "CONNECTED" not in _all_text(course.autograded_dir / "network")


def test_gradebook_is_intact(graded):
    course, corpus, *_ = graded
    db = sqlite3.connect(course.root / "gradebook.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    submissions = dict(db.execute("SELECT student.id, COUNT(*) FROM submitted_assignment "
                                  "JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id"))
    assert submissions == {s: 1 for s in [a.student_id for a in corpus] + list(HONEST)}
    cells_per_student = {s: len(rows) for s, rows in scores(course).items()}
    assert len(set(cells_per_student.values())) == 1 and len(cells_per_student) == len(corpus) + len(HONEST)


def test_failures_are_explained_in_feedback_and_report(graded):
    course, *_ = graded
    report = (course.reports_dir / "report.md").read_text()
    for student, words in [("invalid_json", "not valid notebook JSON"), ("non_utf8", "not UTF-8"),
                           ("missing_notebook", "03_dropout.ipynb is missing"),
                           ("symlinked_notebook", "not a regular file"),
                           ("renamed_notebook", "was graded as 02_batchnorm.ipynb"),
                           ("huge_extra_file", "over the 20 MB limit"),
                           ("infinite_loop", "stopped after 30 s")]:
        assert re.search(rf"\| {student} \|[^\n]*{re.escape(words)}", report), (student, words)
    notes = html.unescape((course.feedback_dir / "invalid_json" / ASSIGNMENT / "grading_notes.html").read_text())
    assert "04_update_rules.ipynb: the file is not valid notebook JSON" in notes
    loop = nbformat.read(course.autograded_dir / "infinite_loop" / ASSIGNMENT / "01_layers.ipynb", as_version=4)
    assert any("stopped after 30 s" in o.get("evalue", "") for c in loop.cells for o in c.get("outputs", []))
    flood = (course.feedback_dir / "output_flood" / ASSIGNMENT / "01_layers.html").stat().st_size
    assert flood < 5 * 1024 * 1024


def test_every_submission_was_graded(graded):
    *_, outputs = graded
    assert "could not autograde" not in outputs["autograde"].stderr

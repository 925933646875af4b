"""The adversarial corpus graded together with honest students, as root with the default settings:
every grade as expected, honest grades unchanged, nothing outside the sandbox read, written, chowned
or left running, no host fact shown, the trusted side's memory bounded, the gradebook intact."""
import csv
import hashlib
import html
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict

import nbformat
import pytest

from adversarial.corpus import ASSIGNMENT, SECRET, attacks, build_attack
from conftest import REPO, catalog, copy_course, grader_env, needs_sandbox, run_grader
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


def _state(path):
    """A path's content hash (or link target), owner and mode, without following links."""
    info = os.lstat(path)
    if path.is_symlink():
        content = "link:" + str(path.readlink())
    elif path.is_file():
        content = hashlib.sha256(path.read_bytes()).hexdigest()
    else:
        content = "dir"
    return content, info.st_uid, info.st_gid, oct(info.st_mode)


def snapshot(root, canaries):
    """Content, owner and mode of everything under source/, release/, submitted/, assignments/, the
    instructor's secret, and the canaries outside the course (links not followed)."""
    state = {}
    for folder in [root / f for f in ("source", "release", "submitted", "assignments", "catalog")] + canaries:
        state[str(folder)] = _state(folder)
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            state[str(path)] = _state(path)
    state["instructor_secret"] = _state(root / "instructor_secret.txt")
    return state


def sandbox_processes():
    """Live processes of the machine that run as a sandbox user id (61000 and up)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = open(f"/proc/{entry}/status").read()
        except OSError:
            continue
        uid = int(status.split("Uid:")[1].split()[0])
        if uid >= 61000 and "State:\tZ" not in status:
            found.append((int(entry), uid))
    return found


class PeakMemory:
    """Samples the peak resident memory (VmHWM) of every grader-side process (root's) under a process."""

    def __init__(self, root_pid):
        self.root_pid, self.peaks, self.running = root_pid, {}, True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def _tree(self):
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = open(f"/proc/{entry}/stat").read()
                    parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        tree, frontier = {self.root_pid}, [self.root_pid]
        while frontier:
            pid = frontier.pop()
            for child, parent in parents.items():
                if parent == pid and child not in tree:
                    tree.add(child)
                    frontier.append(child)
        return tree

    def sample(self):
        while self.running:
            for pid in self._tree():
                try:
                    status = open(f"/proc/{pid}/status").read()
                except OSError:
                    continue
                if int(status.split("Uid:")[1].split()[0]) != os.geteuid() or "VmHWM:" not in status:
                    continue   # a sandbox's process, or a zombie
                name = status.split("Name:")[1].split()[0]
                self.peaks[(pid, name)] = max(self.peaks.get((pid, name), 0),
                                              int(status.split("VmHWM:")[1].split()[0]) * 1024)
            time.sleep(0.1)

    def stop(self):
        self.running = False
        self.thread.join(timeout=5)


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
    outside = tmp_path_factory.mktemp("host")
    (outside / "canary.txt").write_text("canary " + SECRET)
    (outside / "canary_dir").mkdir()
    (outside / "canary_dir" / "inside.txt").write_text("canary dir")
    os.chmod(outside / "canary.txt", 0o600)
    canaries = [outside / "canary.txt", outside / "canary_dir"]
    recorder = ConnectionRecorder()
    context = {"course": root, "victim": victim, "port": recorder.port, "victim_notebook": victim / "01_layers.ipynb",
               "canary": outside / "canary.txt", "canary_dir": outside / "canary_dir"}
    corpus = attacks(solution_sources(course, ASSIGNMENT))
    for attack in corpus:
        build_attack(course, attack, context)
    before = snapshot(root, canaries)
    proc = subprocess.Popen([sys.executable, "-m", "grader", "--root", str(root), "autograde"], cwd=REPO,
                            env=grader_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = PeakMemory(proc.pid)
    out, err = proc.communicate(timeout=3600)
    memory.stop()
    assert proc.returncode == 0, out[-3000:] + err[-3000:]
    for _ in range(50):   # the workers' sandboxes die with them; give the kernel a moment to reap
        left_running = sandbox_processes()
        if not left_running:
            break
        time.sleep(0.2)
    outputs = {"autograde": subprocess.CompletedProcess(proc.args, 0, out, err)}
    outputs.update({step: run_grader(root, step) for step in ("feedback", "grades", "report")})
    recorder.close()
    return dict(course=course, corpus=corpus, before=before, after=snapshot(root, canaries),
                connections=recorder.connections, outputs=outputs, memory=memory.peaks, left_running=left_running,
                context=context)


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


CORPUS = attacks(solution_sources(Course(REPO), ASSIGNMENT))


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 34 and len({a.student_id for a in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("student", [a.student_id for a in CORPUS])
def test_each_attack_gets_its_expected_grade(graded, student):
    course, corpus = graded["course"], graded["corpus"]
    attack = next(a for a in corpus if a.student_id == student)
    check_expected(course, attack.student_id, attack.loses, attack.zero_notebooks)
    status = {row["student_id"]: row["status"] for row in csv.DictReader(open(course.reports_dir / "grades.csv"))}
    if attack.failed:
        assert status[student].startswith("failed: "), status[student]
    else:
        assert status[student] == "graded", status[student]


@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_students_are_graded_as_if_alone(graded, student):
    check_expected(graded["course"], student, HONEST[student])


def _all_text(folder):
    """What student code printed: the outputs of the notebooks under folder (not their source)."""
    texts = []
    for path in folder.rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                texts.append(output.get("text", "") + output.get("evalue", "") + str(output.get("data", "")))
    return "\n".join(texts)


def test_nothing_outside_the_sandbox_was_read(graded):
    course, corpus = graded["course"], graded["corpus"]
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


def test_nothing_outside_the_sandbox_changed_content_owner_or_mode(graded):
    before, after = graded["before"], graded["after"]
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}
    assert sorted(set(before) - set(after)) == [] and sorted(set(after) - set(before)) == []


def test_no_student_process_outlives_its_notebook(graded):
    assert graded["left_running"] == []
    daemon = _all_text(graded["course"].autograded_dir / "outlives_notebook")
    assert "CellTimeoutError" not in daemon and "BudgetExhausted" not in daemon


def test_the_sandbox_shows_no_host_path(graded):
    course, context = graded["course"], graded["context"]
    text = _all_text(course.autograded_dir / "host_facts")
    assert "no /proc/self/mountinfo FileNotFoundError" in text and "no /proc/1/cmdline FileNotFoundError" in text
    assert "PATHS /opt/python/bin/python" in text and "NUMPY /opt/site-packages/numpy" in text
    host = {str(REPO), str(course.root), sys.prefix, sys.base_prefix, os.path.realpath(sys.base_prefix),
            str(context["canary"].parent), "/root/"}
    assert [h for h in host if h in text] == []
    for page in (course.feedback_dir / "host_facts").rglob("*.html"):
        assert [h for h in host if h in page.read_text()] == [], page


def test_the_trusted_side_stays_under_2_gb(graded):
    peaks = graded["memory"]
    assert peaks, "no grader process was sampled"
    assert max(peaks.values()) < 2 * 1024 ** 3, sorted(peaks.items(), key=lambda kv: -kv[1])[:5]
    huge = _all_text(graded["course"].autograded_dir / "huge_known_good_call")
    assert "the huge call failed: MemoryError" in huge


def test_bounded_messages_fail_only_their_check(graded):
    course = graded["course"]
    flood = _all_text(course.autograded_dir / "empty_list_flood")
    assert "cannot be graded" in flood and "exceeds the limit" in flood
    deep = _all_text(course.autograded_dir / "deep_nesting")
    assert "nested too deeply" in deep


def test_student_output_during_hidden_checks_is_not_shown(graded):
    course = graded["course"]
    text = _all_text(course.autograded_dir / "prints_hidden_inputs")
    assert "LEAK shape (2, 2, 2)" in text                      # the public check's call: shown
    assert "LEAK shape (3, 4, 5, 2)" not in text and "LEAK shape (6, 9)" not in text   # hidden ones: not
    assert "printed during a hidden check is not shown" in text


def test_feedback_markup_cannot_run_scripts(graded):
    course = graded["course"]
    pages = list((course.feedback_dir / "live_markup" / ASSIGNMENT).glob("05_networks.html"))
    assert pages
    page = pages[0].read_text()
    assert "student html" in page                               # the student's output is there, defused
    for live in (r"<script>document\.title", r"<img[^>]*onerror", r"<iframe[^>]*javascript", r"<a[^>]*javascript:",
                 r"<script>document\.title = 'OUTPUT"):
        assert not re.search(live, page), live
    assert "&lt;script&gt;document.title" in page         # shown as text


def test_corrupted_metadata_is_repaired_with_a_message(graded):
    report = (graded["course"].reports_dir / "report.md").read_text()
    assert re.search(r"\| broken_metadata \|[^\n]*grading metadata of cell 'batchnorm_forward_solution' was "
                     r"changed", report)


def test_sandbox_user_ids_are_unprivileged_and_leased(graded):
    text = _all_text(graded["course"].autograded_dir / "uid_probe")
    uid = int(re.search(r"UID (\d+) (\d+)", text).group(1))
    assert uid >= 61000 if os.geteuid() == 0 else uid != 0


def test_no_network_connection_reached_the_machine(graded):
    course, connections = graded["course"], graded["connections"]
    assert connections == []
    assert "CONNECTED" not in _all_text(course.autograded_dir / "network")


def test_gradebook_is_intact(graded):
    course, corpus = graded["course"], graded["corpus"]
    db = sqlite3.connect(course.root / "gradebook.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    submissions = dict(db.execute("SELECT student.id, COUNT(*) FROM submitted_assignment "
                                  "JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id"))
    assert submissions == {s: 1 for s in [a.student_id for a in corpus] + list(HONEST)}
    cells_per_student = {s: len(rows) for s, rows in scores(course).items()}
    assert len(set(cells_per_student.values())) == 1 and len(cells_per_student) == len(corpus) + len(HONEST)


def test_failures_are_explained_in_feedback_and_report(graded):
    course = graded["course"]
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
    log = graded["outputs"]["autograde"].stderr
    assert "could not autograde" not in log, log[-3000:]

"""The gradebook on a real PostgreSQL server: parallel grading gives the SQLite grades, one submission each.

The test starts its own PostgreSQL server (initdb + pg_ctl from /usr/lib/postgresql/<version>/bin)
in a temporary folder, reachable only through a unix socket there, as the `postgres` user when run
as root; it is stopped at the end. Without the server binaries the test is skipped, except in CI
(CI=true), where it fails.
"""
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import gradebook_scores, released_class, run_grader
from conftest import catalog
from grader.course import Course

PG_PROGRAMS = ("initdb", "pg_ctl", "postgres")
DB_USER, DB_NAME = "grader", "gradebook"

# full marks, nothing done, two bugs: graded by 2 workers at once
FC = catalog()
CLASS = {
    "full_marks": {},
    "untouched_release": None,
    "momentum_sign": FC.MOMENTUM_SIGN.replacements(),
    "cache_in_place": FC.RELU_BACKWARD_MODIFIES_CACHE.replacements(),
}


def postgres_bin():
    """The newest /usr/lib/postgresql/<version>/bin with the server programs, else None."""
    def version(path):
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all(os.access(os.path.join(folder, p), os.X_OK) for p in PG_PROGRAMS):
            return folder
    return None


PG_BIN = postgres_bin()
if PG_BIN is None and os.environ.get("CI") != "true":
    pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                "(apt-get install postgresql)", allow_module_level=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A throwaway PostgreSQL server in `folder`, listening only on a unix socket there."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.data, self.sockets, self.log = self.folder / "data", self.folder / "sockets", self.folder / "server.log"
        self.port = free_port()
        self.owner = None
        if os.geteuid() == 0:   # the server refuses to run as root
            self.owner = pwd.getpwnam("postgres")

    def run(self, *command):
        """Run a server program as the server's owner; raise with its output if it fails."""
        prefix = []
        if self.owner is not None:
            prefix = ["setpriv", f"--reuid={self.owner.pw_uid}", f"--regid={self.owner.pw_gid}", "--init-groups"]
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(self.folder)}
        proc = subprocess.run(prefix + [os.path.join(PG_BIN, command[0]), *command[1:]], env=env,
                              cwd=self.folder, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{command[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{log}")
        return proc

    def start(self):
        self.sockets.mkdir(parents=True)
        if self.owner is not None:
            for path in (self.folder, self.sockets):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)
        os.chmod(self.folder, 0o755)
        self.run("initdb", "-D", str(self.data), "-U", DB_USER, "--auth=trust", "-E", "UTF8", "--no-instructions")
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        with contextlib.closing(self.connect("postgres")) as conn:
            conn.autocommit = True
            conn.cursor().execute(f"CREATE DATABASE {DB_NAME}")

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def connect(self, dbname=DB_NAME):
        import psycopg2

        return psycopg2.connect(host=str(self.sockets), port=self.port, user=DB_USER, dbname=dbname)

    @property
    def url(self):
        return f"postgresql+psycopg2://{DB_USER}@/{DB_NAME}?host={self.sockets}&port={self.port}"


@pytest.fixture(scope="module")
def postgres():
    if PG_BIN is None:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    # not pytest's tmp_path: its parents are private to root, and the server runs as `postgres`
    server = PostgresServer(tempfile.mkdtemp(prefix="grader-pg-"))
    try:
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    return released_class(tmp_path_factory.mktemp("course"), CLASS)


def submissions_per_student(server):
    with contextlib.closing(server.connect()) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT student.id, COUNT(submitted_assignment.id) FROM student LEFT JOIN "
                       "submitted_assignment ON submitted_assignment.student_id = student.id GROUP BY student.id")
        return dict(cursor.fetchall())


def test_parallel_grading_into_postgres_gives_the_sqlite_grades(small_class, postgres):
    course = small_class
    with pytest.MonkeyPatch.context() as patch:                  # the SQLite gradebook, as a reference
        patch.delenv("GRADER_DB_URL", raising=False)
        run_grader(course.root, "autograde", "--jobs", "2")
        sqlite_scores = gradebook_scores(Course(course.root))
    assert {s for s, _, _ in sqlite_scores} == set(CLASS)

    with pytest.MonkeyPatch.context() as patch:                  # run_grader passes os.environ on
        patch.setenv("GRADER_DB_URL", postgres.url)
        pg_course = Course(course.root)
        assert pg_course.db_url.startswith("postgresql+psycopg2://")
        run_grader(course.root, "release")
        run_grader(course.root, "autograde", "--jobs", "2")
        assert submissions_per_student(postgres) == {student: 1 for student in CLASS}
        assert gradebook_scores(pg_course) == sqlite_scores

        # grading again (e.g. after a fix to the tests) replaces the submissions, never adds to them
        run_grader(course.root, "autograde", "--jobs", "2", "--student", "full_marks", "--student", "momentum_sign")
        assert submissions_per_student(postgres) == {student: 1 for student in CLASS}
        assert gradebook_scores(Course(course.root)) == sqlite_scores

    # and the grades are the expected ones
    assert all(score == top for (s, _, _), (score, top) in sqlite_scores.items() if s == "full_marks")
    assert all(score == 0 for (s, _, _), (score, _) in sqlite_scores.items() if s == "untouched_release")
    for student in ("momentum_sign", "cache_in_place"):
        assert any(score < top for (s, _, _), (score, top) in sqlite_scores.items() if s == student)

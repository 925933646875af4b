"""Grading on a Dask cluster: executions shipped as data give the same grades as grading here."""
import os
import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from conftest import ASSIGNMENT, REPO, SANDBOXED, catalog, gradebook_scores, needs_sandbox, released_class, run_grader
from grader.pipeline.jobs import pack_job, run_job
from grader.settings import GraderSettings

pytestmark = needs_sandbox

# full marks, nothing done, one bug
CLASS = {
    "full_marks": {},
    "untouched_release": None,
    "momentum_sign": catalog().MOMENTUM_SIGN.replacements(),
}


def meta(grade_id, **flags):
    return {"nbgrader": {"grade_id": grade_id, "schema_version": 3, "task": False, "grade": False,
                         "solution": False, "locked": False, **flags}}


def tiny_notebook():
    setup = "import numpy as np\nfrom nnkit.checks import Checks, assert_allclose"
    test = ("checks = Checks(points=2)\nwith checks.check('doubles'):\n"
            "    assert_allclose(double(np.arange(3.0)), 2 * np.arange(3.0), name='out')\n"
            "with checks.check('triples'):\n"
            "    assert_allclose(double(np.ones(2)), 3 * np.ones(2), name='out')\nchecks.score()")
    return new_notebook(cells=[
        new_code_cell(setup, metadata=meta("setup", locked=True)),
        new_code_cell("def double(x):\n    return 2 * x", metadata=meta("double_solution", solution=True)),
        new_code_cell(test, metadata=meta("double", grade=True, locked=True, points=2)),
    ])


def scores_of(executed):
    out = {}
    for cell in nbformat.reads(executed, as_version=4).cells:
        if cell.metadata["nbgrader"].get("grade"):
            results = [o for o in cell.outputs if o.output_type == "execute_result"]
            out[cell.metadata["nbgrader"]["grade_id"]] = results[0]["data"]["text/plain"] if results else None
    return out


def test_a_job_runs_on_a_worker_as_plain_data(tmp_path):
    """run_remotely ships the Job to a worker process and returns what run_job returns here."""
    from grader.pipeline.distributed import client_for, executed_count, executed_per_worker, local_cluster, run_remotely

    submission = tmp_path / "submission"
    submission.mkdir()
    nb = tiny_notebook()
    nbformat.write(nb, submission / "01_layers.ipynb")   # a name of the assignment's notebooks: packed
    settings = GraderSettings(allow_unsandboxed=not SANDBOXED)
    job = pack_job(nb, REPO, ASSIGNMENT, {ASSIGNMENT: submission}, settings, [], ["double"])
    assert f"{ASSIGNMENT}/01_layers.ipynb" in job.files and f"{ASSIGNMENT}/nnkit/checks.py" in job.files
    here = run_job(job).notebook
    with local_cluster(workers=1) as address:
        result = run_remotely(address, job)
        remote, seconds = result.notebook, result.seconds
        workers = client_for(address).run(os.getpid)
        assert os.getpid() not in workers.values()          # it ran in the worker process
        assert sum(executed_per_worker(address).values()) == 1
    assert executed_count() == 0                             # not here
    assert seconds > 0
    assert scores_of(remote) == scores_of(here) == {"double": "1.0"}


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    return released_class(tmp_path_factory.mktemp("course"), CLASS)


def test_grades_on_a_local_dask_cluster_equal_local_grading(small_class):
    course = small_class
    run_grader(course.root, "autograde", "--jobs", "2")
    local = gradebook_scores(course)
    students = {s for s, _, _ in local}
    assert students == set(CLASS)

    for leftover in ("autograded", ".staged", "reports"):
        shutil.rmtree(course.root / leftover, ignore_errors=True)
    (course.root / "gradebook.db").unlink()
    run_grader(course.root, "release")   # a fresh gradebook
    proc = run_grader(course.root, "autograde", "--dask", "local", "--jobs", "2")
    notebooks = len(course.source_notebooks(ASSIGNMENT))
    assert f"Dask workers executed {len(CLASS) * notebooks} notebooks (2 workers)" in proc.stdout, proc.stdout
    assert f"autograded {len(CLASS)} of {len(CLASS)} submissions" in proc.stdout
    remote = gradebook_scores(course)
    assert remote == local
    # and the grades are the expected ones: not everything zero, not everything full
    assert all(score == top for (s, _, _), (score, top) in local.items() if s == "full_marks")
    assert all(score == 0 for (s, _, _), (score, _) in local.items() if s == "untouched_release")
    assert any(score < top for (s, _, g), (score, top) in local.items() if s == "momentum_sign")

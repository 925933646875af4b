"""What a job carries: the student's notebooks of each assignment, bounded by the assignment."""
from nbformat.v4 import new_notebook

from conftest import REPO
from grader.course import Course
from grader.pipeline.jobs import pack_job
from grader.settings import GraderSettings


def test_only_the_assignments_notebooks_travel_however_many_files_a_student_adds(tmp_path):
    """A student's folders are read only for the assignment's notebook names: extra files (here 40
    notebooks of 1 MB in each folder) cost the trusted side nothing, whatever their number."""
    course = Course(REPO)
    folders = {}
    for assignment in course.assignments():
        folder = tmp_path / assignment
        folder.mkdir()
        for path in course.release_notebooks(assignment):
            (folder / path.name).write_bytes(path.read_bytes())
        for i in range(40):
            (folder / f"extra_{i}.ipynb").write_bytes(b"{" + b" " * (1 << 20) + b"}")
        folders[assignment] = folder
    graded = course.assignments()[0]
    job = pack_job(new_notebook(), REPO, graded, folders, GraderSettings(), [], [])
    notebooks = sorted(name for name in job.files if name.endswith(".ipynb"))
    assert notebooks == sorted(f"{a}/{p.name}" for a in course.assignments() for p in course.release_notebooks(a))

"""grader.reports.lms: the Canvas and Moodle CSVs hold final grades only, in each LMS's import format."""
import csv
import subprocess
import sys

from grader.reports import grades
from grader.reports.lms import CANVAS_IDENTITY, CANVAS_POINTS_ROW, MOODLE_IDENTITY, CanvasExport, MoodleExport

from .gradebooks import ASSIGNMENT, COURSE, gradebook, manual_grade


def export(plugin_class, gb, path, status=None, **traits):
    plugin = plugin_class(to=str(path), **traits)
    plugin.grades = grades.assignment_grades_in(gb, status or {})
    plugin.export(gb)
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_csv_has_identity_columns_points_possible_and_final_grades_only(tmp_path):
    with gradebook(tmp_path) as gb:
        manual_grade(gb, "ada", 2)
        table = export(CanvasExport, gb, tmp_path / "canvas.csv")
    assert table[0] == CANVAS_IDENTITY + [ASSIGNMENT]
    assert table[1] == [CANVAS_POINTS_ROW, "", "", "", "", "6"]
    # sorted by last name (else id); "Last, First"; the Canvas user id, nbgrader's id as SIS User ID, email as login
    assert table[2:] == [["bob", "", "bob", "bob", "", ""],   # bob awaits manual grading: left empty
                         ["Charisse, Cyd", "", "cyd", "cyd", "", ""],
                         ["Lovelace, Ada", "1001", "ada", "ada@example.edu", "", "5"]]


def test_moodle_csv_has_name_id_number_email_and_the_points_in_the_header(tmp_path):
    with gradebook(tmp_path) as gb:
        manual_grade(gb, "ada", 1.25)
        manual_grade(gb, "bob", 0)
        table = export(MoodleExport, gb, tmp_path / "moodle.csv", status={("bob", ASSIGNMENT): "failed: timeout"})
    assert table[0] == MOODLE_IDENTITY + [f"{ASSIGNMENT} (out of 6)"]
    assert table[1:] == [["Ada", "Lovelace", "ada", "ada@example.edu", "4.25"],
                         ["", "", "bob", "", ""],              # autograding failed: no grade goes out
                         ["Cyd", "Charisse", "cyd", "", ""]]    # no submission


def test_export_plugins_select_students_and_work_from_nbgrader_export(tmp_path):
    with gradebook(tmp_path) as gb:
        manual_grade(gb, "ada", 2)
        manual_grade(gb, "bob", 1)
        table = export(CanvasExport, gb, tmp_path / "one.csv", student=["bob"])
        assert [row[2] for row in table[2:]] == ["bob"] and table[2][5] == "4"
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(tmp_path)!r}\nc.CourseDirectory.course_id = {COURSE!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{tmp_path / 'gradebook.db'}'\n")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--exporter", "grader.reports.lms.MoodleExport",
                           "--to", str(tmp_path / "via_nbgrader.csv")], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(tmp_path / "via_nbgrader.csv", newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[1] == ["Ada", "Lovelace", "ada", "ada@example.edu", "5"] and table[2][4] == "4"

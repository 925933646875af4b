"""What grading produces for people: feedback, grade exports, the class report.

- `feedback`: per-student feedback HTML (nbgrader's generate_feedback) and grading notes
- `feedback_preprocessors`: no hidden-test source in feedback
- `grades`: reports/grades.csv and reports/grades_by_test.csv from the gradebook
- `report`: reports/report.md with plots
"""

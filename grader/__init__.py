"""Instructor tooling for the course kit: autograding pipeline, feedback,
grade reports, sample class and mutation testing, on nbgrader's extension points.

Student code never imports this package; hidden tests may (they never reach students).
"""

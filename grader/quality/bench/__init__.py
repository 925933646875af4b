"""Benchmarks that print figures (`make bench`, `make bench-notebooks`).

- `notebooks`: every source notebook executed in a fresh kernel, timed
- `roster`: the benchmark class, made from every assignment's catalog
- `plain`: the class graded by plain serial nbgrader (the stock command, nbgrader's Execute)
- `floor`: the test cells' own compute against the instructor's solutions (the floor)
- `grading`: both graders side by side, their throughput, where the kit's time goes, and
  whether every non-adversarial student got the same grade on every test from both
"""

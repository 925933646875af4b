"""Instructor tooling for the course kit, on nbgrader's extension points, behind one CLI (`python -m grader`).

- `sandbox`: the sandbox boundary (what builds it and what runs inside it)
- `judge`: split execution, the trusted side (test cells judged here, student code proxied)
- `pipeline`: nbgrader integration (staging, preprocessors, jobs, workers, the class loop)
- `reports`: feedback, grade exports, the class report
- `quality`: testing the tests (catalogs of mutants and variants), the sample class, benchmarks
- `settings`, `conventions`, `course`, `cli`: the knobs, the notebook conventions, the course folder

Student code never imports this package; hidden tests may (they never reach students).
"""

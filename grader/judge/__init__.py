"""Split execution, the trusted side: test cells run here, student code in a sandboxed process.

The judge executes a notebook cell by cell (`notebook_run.NotebookRun`). Student cells (answers,
plain code) run in a fresh sandboxed student process per notebook (`channel.StudentProcess`).
Test cells run in the grader's own process, with the student's functions and classes replaced by
proxies (`proxies`) that send plain data to the student process and read plain data back: the
verdict is computed here from the values the student's functions returned, so nothing the
student's code does can change it.

- `perturbation`: numerical-gradient loops over student code run as one request
- `known_good`: composite tests with known-good building blocks (the reference process)
- `verdicts`: which graded functions kept full marks, for the composite tests that follow
- `hidden`: student output printed during hidden checks stays out of the feedback
"""

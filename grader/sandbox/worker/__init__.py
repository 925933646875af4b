"""The code that runs inside the sandbox: `python -m grader.sandbox.worker MODE LIMITS FD`.

MODE "student" runs a notebook's student code and answers the judge's requests about it
(`server.StudentWorker`); MODE "reference" runs the instructor's known-good building blocks for
calls that student code makes into them (`reference.ReferenceWorker`), so that work done on the
student's behalf is bounded like the student's own. Both set their resource limits before they
read their first request.
"""

"""The sandbox boundary: what builds the sandbox and what runs inside it.

Everything in this package is safe to show to student code, and nothing here imports the
trusted side of the grader (`grader.judge`, `grader.pipeline`, ...): the modules that run inside
the sandbox (`worker`, `wire`, `protocol`) are bind-mounted into it read-only, under the same
module names as outside.

- `wire`: the plain-data message format (no pickle), with bounds on what a message may cost
- `protocol`: the requests and replies the judge and a sandboxed process exchange
- `limits`: resource limits of a sandboxed process
- `bubblewrap`: the bubblewrap command line (neutral mount points, no /proc)
- `uids`: unprivileged user ids leased per grading process, never shared by two runs
- `launch`: starting, talking to and killing a sandboxed process
- `worker`: the code that runs inside the sandbox (student code, or the known-good reference)
"""

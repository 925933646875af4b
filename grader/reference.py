"""Known-good implementations for hidden tests, taken from the source notebooks.

Network tests judge the network code with known-good layers, so that a bug in a
student's layer costs its points once. The reference is the solution cells of
the instructor's source notebooks: there is no second copy of the solutions.
"""
import contextlib
import os
from pathlib import Path

from nnkit.notebooks import import_solutions

REPO_ROOT = Path(__file__).resolve().parents[1]


def source_dir(assignment):
    """The instructor's source folder of an assignment (GRADER_SOURCE_ROOT overrides the root)."""
    root = Path(os.environ.get("GRADER_SOURCE_ROOT", REPO_ROOT / "source"))
    return root / assignment


def reference_solutions(assignment, *notebooks):
    """A dict name -> object of the solution cells of the given source notebooks."""
    paths = [str(source_dir(assignment) / nb) for nb in notebooks]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise FileNotFoundError("reference notebooks not found: %s" % ", ".join(missing))
    return import_solutions(*paths, verbose=False)


@contextlib.contextmanager
def known_good(namespace, assignment, notebooks, names):
    """Temporarily bind `names` in `namespace` to the reference implementations.

    Inputs:
    - namespace: the notebook's globals()
    - assignment: assignment folder name under source/
    - notebooks: source notebook file names holding the reference solutions
    - names: the function names to swap in

    The previous bindings are restored on exit, even when a check fails.
    """
    reference = reference_solutions(assignment, *notebooks)
    missing = object()
    saved = {name: namespace.get(name, missing) for name in names}
    try:
        for name in names:
            namespace[name] = reference[name]
        yield reference
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value

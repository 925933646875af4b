"""Use the functions you wrote in one notebook from another.

Later notebooks build on earlier ones: the networks notebook uses your layers
and update rules. `import_solutions` runs only the answer cells (nbgrader
solution cells) of the named notebooks, each in isolation, so a broken cell
costs only the names it defines.
"""
import contextlib
import json
import os

import numpy as np


def solution_cells(notebook):
    """The source of each code cell marked as an nbgrader solution cell.

    Inputs:
    - notebook: a notebook as a dict (nbformat 4 JSON)

    Returns a list of (grade_id, source) pairs, in notebook order.
    """
    cells = []
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("solution") and not meta.get("grade"):
            source = cell.get("source", "")
            if isinstance(source, list):
                source = "".join(source)
            cells.append((meta.get("grade_id", "?"), source))
    return cells


def import_solutions(*paths, verbose=True):
    """Run the solution cells of the given notebooks and return what they define.

    Inputs:
    - paths: notebook file names, relative to the current directory
    - verbose: print a line for every cell that failed to run

    Returns a dict name -> object of the public names the cells defined
    (functions, classes, constants), ready for ``globals().update(...)``.
    """
    namespace = {"np": np, "__name__": "solutions"}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                notebook = json.load(f)
        except (OSError, ValueError) as exc:
            if verbose:
                print(f"Could not read {os.path.basename(path)}: {exc}")
            continue
        for grade_id, source in solution_cells(notebook):
            try:
                exec(compile(source, f"<{os.path.basename(path)}:{grade_id}>", "exec"), namespace)
            except Exception as exc:  # a broken cell costs only its own names
                if verbose:
                    print(f"Cell {grade_id} of {os.path.basename(path)} failed: {type(exc).__name__}: {exc}")
    return {name: value for name, value in namespace.items()
            if not name.startswith("_") and name not in ("np",)}


#: Set by the autograder to the instructor's folder of the assignment's notebooks.
REFERENCE_DIR_VARIABLE = "NNKIT_REFERENCE_DIR"


@contextlib.contextmanager
def known_good(namespace, notebooks, names):
    """Run a block with known-good versions of the named functions, when grading.

    Tests of a function that builds on others (a layer utility, a network) use
    this so that a bug in a building block costs its points once, in that
    block's own tests. While grading, the autograder points the environment
    variable NNKIT_REFERENCE_DIR at the instructor's notebooks and the named
    functions are taken from there; on your machine the variable is unset and
    your own functions are used, so the checks also test how yours fit together.

    Inputs:
    - namespace: the notebook's globals()
    - notebooks: notebook file names that define the functions
    - names: the names to swap in for the duration of the block

    The previous bindings are restored on exit, even when a check fails.
    """
    reference_dir = os.environ.get(REFERENCE_DIR_VARIABLE)
    if not reference_dir:
        yield
        return
    reference = import_solutions(*(os.path.join(reference_dir, nb) for nb in notebooks), verbose=False)
    missing = [name for name in names if name not in reference]
    if missing:
        raise RuntimeError("reference notebooks do not define %s" % ", ".join(missing))
    absent = object()
    saved = {name: namespace.get(name, absent) for name in names}
    try:
        namespace.update({name: reference[name] for name in names})
        yield
    finally:
        for name, value in saved.items():
            if value is absent:
                namespace.pop(name, None)
            else:
                namespace[name] = value

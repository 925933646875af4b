"""The format of an assignment's catalog: implementations written the way students write them.

Each assignment has a catalog module beside the course content, `catalog/<assignment>.py`,
found by convention (`load_catalog`). It defines:

- MUTANTS: realistic bugs (`mutant(...)`); each must lose points on the tests of its function,
  and only there (one bug costs its points once);
- VARIANTS: correct implementations that differ from the instructor's (`variant(...)`); each
  must keep every point;
- SAMPLE_STUDENTS: the sample class (`grader.quality.sample_class.SampleStudent`);
- BENCH_ATTACKS: hostile submissions for `make bench` (`grader.quality.sample_class.SampleStudent`
  with kind "adversarial").

A case whose cache layout differs from the instructor's also replaces the backward pass that
reads that cache (its `companions`): a cache that is the student's choice is judged only as a
pair of forward and backward passes.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent, indent
from types import ModuleType

CATALOG_DIR = "catalog"


@dataclass(frozen=True)
class Case:
    """One replacement of a graded function's solution cell.

    - name: unique within the assignment, e.g. "relu_backward/modifies_cache"
    - function: the graded function or class it replaces
    - correct: True for a variant (must keep full marks), False for a mutant (must lose points)
    - source: the complete new source of the solution cell
    - description: what the student did
    - companions: ((function, source), ...) other solution cells replaced along with it
      (e.g. the backward pass that reads a differently laid out cache)
    """

    name: str
    function: str
    correct: bool
    source: str
    description: str
    companions: tuple[tuple[str, str], ...] = ()

    def replacements(self) -> dict[str, str]:
        """function -> source of every solution cell this case replaces."""
        return {self.function: self.source, **dict(self.companions)}


def clean(source: str) -> str:
    """A source written as an indented triple-quoted string, dedented, with one final newline."""
    return dedent(source).strip() + "\n"


def mutant(name: str, function: str, description: str, source: str,
           companions: tuple[tuple[str, str], ...] | list[tuple[str, str]] = ()) -> Case:
    """A bug: `function`'s solution cell replaced by `source` (and its companions' cells)."""
    return Case(f"{function}/{name}", function, False, clean(source), description,
                tuple((f, clean(s)) for f, s in companions))


def variant(name: str, function: str, description: str, source: str,
            companions: tuple[tuple[str, str], ...] | list[tuple[str, str]] = ()) -> Case:
    """A correct implementation that differs from the instructor's."""
    return Case(f"{function}/{name}", function, True, clean(source), description,
                tuple((f, clean(s)) for f, s in companions))


def edited(source: str, *edits: tuple[str, str]) -> str:
    """`source` with each (old, new) replacement applied.

    `old` and `new` are dedented. `old` is whole lines at some indentation (then `new` is indented
    the same way), or else a part of one line (replaced as it is); either must occur exactly once.
    """
    source = clean(source)
    for old, new in edits:
        old, new = dedent(old).strip("\n"), dedent(new).strip("\n")
        found = []
        for depth in range(0, 64):
            pattern = re.compile(r"(?m)^" + re.escape(indent(old, " " * depth)) + r"(?=\n|\Z)")
            found += [(match.start(), match.end(), indent(new, " " * depth)) for match in pattern.finditer(source)]
        if not found and "\n" not in old:
            found = [(m.start(), m.end(), new) for m in re.finditer(re.escape(old), source)]
        if len(found) != 1:
            raise ValueError(f"{old!r} occurs {len(found)} times in the source to edit")
        start, end, replacement = found[0]
        source = source[:start] + replacement + source[end:]
    return source


def load_catalog(root: Path | str, assignment: str) -> ModuleType:
    """The catalog module of `assignment` in the course at `root` (catalog/<assignment>.py)."""
    path = Path(root) / CATALOG_DIR / f"{assignment}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no catalog for {assignment}: expected {path}")
    name = f"_course_catalog_{assignment}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the catalog {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

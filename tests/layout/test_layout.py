"""The grader's layout shows its architecture: no import cycle, the sandbox apart from the trusted side,
small modules and classes, and the student-facing package independent of the instructor's."""
import ast
from pathlib import Path

import pytest

from conftest import REPO

GRADER = REPO / "grader"
NNKIT = REPO / "assignments" / "nnkit"
#: modules that are data tables, not code (exempt from the module size limit)
DATA_TABLES: set[str] = set()
MAX_MODULE_LINES, MAX_CLASS_LINES = 500, 150


def module_name(path: Path, root: Path, package: str) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def modules(root: Path, package: str) -> dict[str, Path]:
    return {module_name(p, root, package): p for p in sorted(root.rglob("*.py"))}


def imports_of(name: str, path: Path) -> set[str]:
    """Every module `name` imports, at any depth of its code (lazy imports count too)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                   for stmt in block.body for n in ast.walk(stmt)}   # imports for annotations only
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return found


GRAPH = {name: {m for m in imports_of(name, path) if m in modules(GRADER, "grader")} - {name}
         for name, path in modules(GRADER, "grader").items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def without_package_inits(graph):
    """Edges to a package's __init__ that only re-exports its own modules do not make cycles."""
    def package_init(module):
        return (GRADER / Path(*module.split(".")[1:]) / "__init__.py").exists()
    return {k: {m for m in v if not (k.startswith(m + ".") and package_init(m))} for k, v in graph.items()}


def test_the_grader_has_no_import_cycle():
    assert cycles(without_package_inits(GRAPH)) == []


def test_the_sandbox_package_imports_nothing_of_the_trusted_side():
    for name, path in modules(GRADER / "sandbox", "grader.sandbox").items():
        trusted = {m for m in imports_of(name, path) if m.startswith("grader.") and not m.startswith("grader.sandbox")}
        assert trusted == set(), (name, trusted)


def test_the_code_run_inside_the_sandbox_imports_only_the_sandbox_and_what_it_finds_there():
    allowed_third_party = {"numpy", "matplotlib", "IPython"}
    for name, path in modules(GRADER / "sandbox" / "worker", "grader.sandbox.worker").items():
        for module in imports_of(name, path):
            top = module.split(".")[0]
            if top == "grader":
                assert module.startswith("grader.sandbox"), (name, module)
            elif top not in allowed_third_party:
                assert top in __import__("sys").stdlib_module_names, (name, module)


def test_the_student_package_never_imports_the_instructor_side():
    for name, path in modules(NNKIT, "nnkit").items():
        assert not any(m.split(".")[0] == "grader" for m in imports_of(name, path)), name


@pytest.mark.parametrize("name", sorted(modules(GRADER, "grader")))
def test_modules_and_classes_are_small(name):
    path = modules(GRADER, "grader")[name]
    lines = path.read_text().splitlines()
    if name not in DATA_TABLES:
        assert len(lines) <= MAX_MODULE_LINES, f"{name}: {len(lines)} lines"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef):
            size = node.end_lineno - node.lineno + 1
            reason = "size:" in (ast.get_docstring(node) or "")
            assert size <= MAX_CLASS_LINES or reason, f"{name}.{node.name}: {size} lines"


def test_no_module_of_the_grader_names_an_assignment_or_its_notebooks():
    names = [p.name for p in (REPO / "source").iterdir() if p.is_dir()]
    names += [nb.stem for a in names for nb in (REPO / "source" / a).glob("*.ipynb")]
    for path in GRADER.rglob("*.py"):
        text = path.read_text()
        assert not [n for n in names if n in text], path


def test_no_path_shims():
    for path in list(GRADER.rglob("*.py")) + [REPO / "nbgrader_config.py"]:
        text = path.read_text()
        assert "sys.path.insert" not in text and "sys.path.append" not in text or "worker" in str(path), path

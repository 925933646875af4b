"""A notebook's time budget: restarts and replays included; then the rest of the notebook fails clearly."""
import time

from judging import GOOD, meta, notebook, run, text_of
from nbformat.v4 import new_code_cell, new_notebook

from conftest import needs_sandbox

pytestmark = needs_sandbox

SLOW = "import time\ntime.sleep(1.5)\n"


def test_slow_cells_and_deaths_cannot_multiply_the_time():
    """k slow answer cells and t test cells that kill the process: replays would cost k * t cells;
    the budget stops it, and the cells after it fail with a clear message."""
    cells = [new_code_cell("import numpy as np\nfrom nnkit.checks import Checks", metadata=meta("setup", "given"))]
    for i in range(3):
        cells.append(new_code_cell(SLOW + f"value_{i} = {i}", metadata=meta(f"slow_{i}_solution", "solution")))
    killer = "checks = Checks(points=1)\nwith checks.check('dies'):\n    die()\nchecks.score()"
    cells.append(new_code_cell("import os\ndef die():\n    os._exit(1)", metadata=meta("die_solution", "solution")))
    for i in range(4):
        cells.append(new_code_cell(killer, metadata=meta(f"die_{i}", "test", points=1)))
    cells.append(new_code_cell("print('reached the end')", metadata=meta("end_solution", "solution")))
    nb = new_notebook(cells=cells)
    start = time.monotonic()
    scores = run(nb, timeout=5, budget=9)
    took = time.monotonic() - start
    assert took < 16, took                    # without a budget: 4.5 s + 4 replays of 4.5 s
    assert set(scores.values()) == {0.0}
    assert "time budget of 9 s is exhausted" in text_of(nb.cells[-1]), nb.cells[-1].outputs
    assert any("time budget" in text_of(c) for c in nb.cells[5:9])


def test_a_notebook_within_its_budget_is_graded_as_usual():
    assert run(notebook(GOOD), budget=60) == {"double": 2.0, "triple": 2.0}

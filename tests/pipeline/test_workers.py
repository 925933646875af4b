"""Worker pools: forked from a single-threaded grading process, spawned from any other."""
import subprocess
import sys
import textwrap

from conftest import REPO, grader_env

POOL = """
    import multiprocessing, sys, threading
    from grader.pipeline.workers import pool_context, start_pool

    def imported(name):
        return name in sys.modules

    if __name__ == "__main__":
        if sys.argv[-1] == "thread":
            threading.Thread(target=threading.Event().wait, daemon=True).start()
        context = pool_context(warm=["grader.judge.notebook_run"])
        with start_pool(context, 3, None) as pool:
            started = len(multiprocessing.active_children())
            print(context.get_start_method(), started, pool.submit(imported, "grader.judge.notebook_run").result())
"""


def run_script(tmp_path, source, *args):
    """Run `source` as a script in a fresh, single-threaded Python process; returns its output words."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    proc = subprocess.run([sys.executable, str(script), *args], cwd=REPO, env=grader_env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.split()


def test_a_single_threaded_process_forks_all_workers_at_once_with_its_modules(tmp_path):
    assert run_script(tmp_path, POOL) == ["fork", "3", "True"]


def test_a_process_running_other_threads_spawns_its_workers(tmp_path):
    method, _, imported = run_script(tmp_path, POOL, "thread")
    assert method == "spawn"
    assert imported == "False"   # a spawned worker imports only what its task needs


BARS = """
    import io, threading
    from tqdm import tqdm
    from grader.pipeline.workers import ProgressBar

    for bar_class in (ProgressBar, tqdm):
        with bar_class(total=2, file=io.StringIO()) as bar:
            bar.update(1)
            print(threading.active_count())
"""


def test_progress_bars_start_no_thread(tmp_path):
    assert run_script(tmp_path, BARS) == ["1", "2"]   # tqdm's own monitor thread, for comparison

"""Sandbox user ids: leased per grading process, never shared by two runs on one machine."""
import subprocess
import sys
import textwrap

from conftest import REPO, grader_env
from grader.sandbox.uids import UidLease

HOLD = """
    import sys, time
    from grader.sandbox.uids import UidLease
    lease = UidLease(int(sys.argv[1]), int(sys.argv[2]))
    print(lease.uid, flush=True)
    time.sleep(float(sys.argv[3]))
"""


def hold(first, count, seconds):
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLD), str(first), str(count), str(seconds)],
                            cwd=REPO, env=grader_env(), stdout=subprocess.PIPE, text=True)


def test_two_processes_never_get_the_same_uid():
    holders = [hold(63000, 5, 3) for _ in range(4)]
    uids = [int(p.stdout.readline()) for p in holders]
    for p in holders:
        p.kill()
        p.wait()
    assert len(set(uids)) == 4 and all(63000 <= u < 63005 for u in uids), uids


def test_a_lease_is_free_again_when_its_process_ends():
    first = hold(63100, 1, 0)
    uid = int(first.stdout.readline())
    first.wait()
    second = hold(63100, 1, 0)
    assert int(second.stdout.readline()) == uid
    second.wait()


def test_in_one_process_leases_differ_until_released():
    a, b = UidLease(63200, 3), UidLease(63200, 3)
    assert a.uid != b.uid
    a.release()
    c = UidLease(63200, 3)
    assert c.uid in (a.uid, 63200, 63201, 63202) and c.uid != b.uid
    b.release()
    c.release()

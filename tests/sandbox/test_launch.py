"""A sandboxed process: its own empty working folder, no host facts, and nothing of it survives its kill."""
import os
import secrets
import time

import pytest

from conftest import SANDBOXED, needs_sandbox
from grader.sandbox import protocol, wire
from grader.sandbox.bubblewrap import sandbox_user
from grader.sandbox.launch import STUDENT, SandboxedProcess
from grader.sandbox.limits import Limits
from grader.sandbox.uids import UidLease

pytestmark = needs_sandbox


@pytest.fixture(scope="module")
def leases():
    """The module's user-id leases, held until its last test ends: every test's sandbox runs as a user id
    that no earlier sandbox of this module had, so processes of an earlier test still exiting are not counted."""
    held = []
    yield held
    for lease in held:
        lease.release()


@pytest.fixture
def sandbox(leases):
    lease = UidLease()   # a user id of its own: no other sandbox runs as it
    leases.append(lease)
    process = SandboxedProcess(STUDENT, Limits(workdir_bytes=32 * 1024 ** 2),
                               lease.uid if SANDBOXED and sandbox_user() else None, SANDBOXED)
    process.start()
    yield process
    process.kill()


def ask(process, message):
    wire.write_message(process.fd, wire.encode(message))
    return wire.decode(wire.read_message(process.fd))


def run(process, source):
    reply = ask(process, protocol.exec_cell(source))
    return (reply.get("stdout") or "") + str((reply.get("error") or {}).get("evalue", ""))


def test_the_working_folder_is_written_inside_and_links_are_refused(sandbox):
    assert ask(sandbox, protocol.setup({"a/b.txt": b"hello", "a/c/d.txt": b"deep"}, "a"))["ok"]
    assert "hello deep" in run(sandbox, "print(open('b.txt').read(), open('c/d.txt').read())")
    for bad in ("../escape.txt", "/etc/passwd", "a/../../x"):
        reply = ask(sandbox, protocol.setup({bad: b"x"}, None))
        assert not reply["ok"] and "outside the working folder" in reply["error"]["evalue"], reply
    run(sandbox, "import os\nos.symlink('/etc/hostname', 'planted.txt')")
    reply = ask(sandbox, protocol.setup({"a/planted.txt": b"overwrite"}, None))
    assert not reply["ok"]                                   # never written through a link
    assert "FileExistsError" == reply["error"]["ename"]


def test_no_host_fact_is_visible(sandbox):
    import sys

    out = run(sandbox, "import os, sys\nprint(os.path.exists('/proc/self'), os.path.exists('/proc/1/cmdline'), "
                       "sys.executable, sorted(os.environ), os.getcwd())")
    assert out.startswith("False False /opt/")
    for host in (sys.prefix, sys.base_prefix, os.getcwd(), "/root"):
        assert host not in out, host


def test_the_working_folder_is_size_limited(sandbox):
    out = run(sandbox, "n = 0\ntry:\n    with open('big', 'wb') as f:\n        for _ in range(100):\n"
                       "            f.write(b'x' * (1 << 20)); f.flush(); n += 1\nexcept OSError as e:\n"
                       "    print('stopped', n, type(e).__name__)")
    assert "stopped" in out and int(out.split()[1]) <= 32


def test_nothing_started_inside_survives_the_kill(sandbox):
    """A daemon (double fork, its own session) dies with the sandbox. It runs `sleep 300.<token>`, so
    the host finds exactly this daemon by its command line, whatever else runs as the same user id."""
    token = f"300.{secrets.randbelow(10 ** 9):09d}"
    out = run(sandbox, "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                       f"        os.execv('/usr/bin/sleep', ['sleep', '{token}'])\n    os._exit(0)\n"
                       "print('daemon started')")
    assert "daemon started" in out

    def daemons():
        found = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
                with open(f"/proc/{entry}/status") as f:
                    zombie = "State:\tZ" in f.read()
            except OSError:
                continue
            if token.encode() in cmdline and not zombie and entry.isdigit():
                found.append(entry)
        return found

    for _ in range(50):      # it is running before the kill
        if daemons():
            break
        time.sleep(0.1)
    assert daemons(), "the daemon never started"
    sandbox.kill()
    for _ in range(200):     # the kernel kills the sandbox's process namespace as its init dies
        alive = daemons()
        if not alive:
            break
        time.sleep(0.1)
    assert alive == []

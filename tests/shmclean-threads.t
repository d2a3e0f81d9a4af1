#!/usr/bin/python3
"""shmclean and threads with descriptor tables of their own.

A thread that called unshare(CLONE_FILES) has its own table of descriptors,
seen only in /proc/PID/task/TID/fd, not in /proc/PID/fd. A process whose
only descriptor of an object is in such a table uses it all the same, and
must be listed as its user; ordinary threads, which share the process's
table, must not make it count twice."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip_all, done  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(BUILD, "libshmshim.so")
CLEAN = os.path.join(BUILD, "shmclean")
started = []  # processes this test started, ended by PID

# Run under the shim. Opens /threaded in the main thread; a thread then
# takes a table of its own (a copy, holding that descriptor too) and opens
# /threaded again there; the main thread closes its descriptor. /shared
# stays open in the main table, which two ordinary threads share.
HOLDER = """
import ctypes, os, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
O_RDWR, O_CREAT, CLONE_FILES = 2, 0o100, 0x400
main_fd = libc.shm_open(b"/threaded", O_RDWR | O_CREAT, 0o600)
shared_fd = libc.shm_open(b"/shared", O_RDWR | O_CREAT, 0o600)
assert main_fd >= 0 and shared_fd >= 0, os.strerror(ctypes.get_errno())
own = threading.Event()

def own_table():
    assert libc.unshare(CLONE_FILES) == 0, os.strerror(ctypes.get_errno())
    assert libc.shm_open(b"/threaded", O_RDWR, 0) >= 0
    own.set()
    threading.Event().wait()

for target in (own_table, threading.Event().wait, threading.Event().wait):
    threading.Thread(target=target, daemon=True).start()
own.wait()
os.close(main_fd)
print("ready", flush=True)
sys.stdin.read()
"""


def listing(root):
    env = dict(os.environ, SHMSHIM_DIR=root)
    env.pop("LD_PRELOAD", None)
    r = subprocess.run([CLEAN, "-l", "--json"], env=env, capture_output=True, text=True,
                       timeout=60)
    return {e["name"]: e for e in json.loads(r.stdout)["entries"] if e["name"]}


def task_fds(pid):
    """The objects each thread of pid has open: {tid: set of leaves}."""
    tables = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        fd_dir = "/proc/%d/task/%s/fd" % (pid, tid)
        tables[int(tid)] = {os.path.basename(os.readlink(os.path.join(fd_dir, fd)))
                            for fd in os.listdir(fd_dir)}
    return tables


def run(root):
    env = dict(os.environ, LD_PRELOAD=LIB, SHMSHIM_DIR=root)
    p = subprocess.Popen([sys.executable, "-c", HOLDER], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    started.append(p)
    ok(p.stdout.readline().strip() == "ready", "a holder with four threads starts")

    tables = task_fds(p.pid)
    main = tables.pop(p.pid)
    own = [t for t in tables.values() if ".SHMDthreaded" in t]
    ok(".SHMDthreaded" not in main and ".SHMDshared" in main and len(own) == 1 and
       sum(".SHMDshared" in t for t in tables.values()) == 3,
       "/proc agrees: /threaded is open only in one thread's own table, /shared in the "
       "table the other threads share", tables)

    entries = listing(root)
    e = entries.get("/threaded", {})
    ok(e.get("state") == "in-use" and [u["pid"] for u in e["users"]] == [p.pid],
       "an object open only in a thread's own descriptor table is in use, by that process", e)
    e = entries.get("/shared", {})
    ok(e.get("state") == "in-use" and [u["pid"] for u in e["users"]] == [p.pid],
       "an object open in a table that threads share: that process, once", e)

    p.stdin.close()
    p.wait(30)
    entries = listing(root)
    ok(all(entries.get(n, {}).get("state") == "orphan" for n in ("/threaded", "/shared")),
       "once the holder exits, both are orphans", entries)


def main():
    for path in (LIB, CLEAN):
        if not os.path.exists(path):
            skip_all("%s is not built" % path)
    root = tempfile.mkdtemp(prefix="shmshim-test.")
    try:
        run(root)
    finally:
        for p in started:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait(30)
        shutil.rmtree(root, ignore_errors=True)
    return done()


sys.exit(main())

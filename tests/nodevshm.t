#!/usr/bin/python3
"""Python's multiprocessing where /dev/shm is unusable (AWS Lambda's case),
and where it is tiny (Docker's).

In a private mount namespace (needs root and unshare), /dev/shm becomes an
empty read-only directory. Without the shim, multiprocessing.Pool fails;
with it, Pool, Lock, Queue, Manager and shared_memory work between
processes, and the shim's trace shows the semaphores and objects it made
under SHMSHIM_DIR. Both halves are checked, so the test cannot pass by
accident. Then /dev/shm becomes a 1 MB tmpfs: a 64 MB SharedMemory filled
with data dies natively and works under the shim."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip, skip_all, done  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(BUILD, "libshmshim.so")
PYTHON = "/usr/bin/python3"

CLIENT = r'''
import multiprocessing as mp, sys
from multiprocessing import shared_memory

def square(x):
    return x * x

def bump(lock, q, name):
    s = shared_memory.SharedMemory(name=name)
    with lock:
        s.buf[0] += 1
    s.close()
    q.put("hello from the child")

def main():
    print("pool", sum(mp.Pool(2).map(square, range(100))), flush=True)
    lock, q = mp.Lock(), mp.Queue()
    s = shared_memory.SharedMemory(name="nodevshm", create=True, size=4096)
    kids = [mp.Process(target=bump, args=(lock, q, "nodevshm")) for _ in range(3)]
    for k in kids: k.start()
    got = [q.get(timeout=60) for _ in kids]
    for k in kids: k.join(60)
    print("shared", s.buf[0], got.count("hello from the child"), flush=True)
    s.close(); s.unlink()
    with mp.Manager() as m:
        d = m.dict(); d["x"] = 42
        print("manager", d["x"], flush=True)

if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    main()
'''

BIG = r'''
from multiprocessing import shared_memory

s = shared_memory.SharedMemory(name="big", create=True, size=64 << 20)
s.buf[:] = b"\x01" * (64 << 20)
print("filled", sum(s.buf[::4096]), flush=True)
s.close(); s.unlink()
'''


def in_namespace(shm_setup, script, args, root=None, trace=None):
    """Runs script with python3 in a private mount namespace whose /dev/shm
    is set up by the shell command shm_setup."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if root:
        env.update(LD_PRELOAD=LIB, SHMSHIM_DIR=root)
        if trace:
            env["SHMSHIM_DEBUG"] = "1"
    run = 'exec "$0" "$@"' if not trace else 'exec "$0" "$@" 2>"%s"' % trace
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
           "%s && %s" % (shm_setup, run), PYTHON, script] + args
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def main():
    if os.getuid() != 0 or not shutil.which("unshare") or not os.path.exists(PYTHON):
        print("1..0 # SKIP needs root, unshare and %s for a private mount namespace" % PYTHON)
        return 0
    work = tempfile.mkdtemp(prefix="shmshim-test.")
    try:
        empty = os.path.join(work, "empty")
        root = os.path.join(work, "root")
        os.mkdir(empty)
        os.mkdir(root, 0o1777)
        client = os.path.join(work, "client.py")
        big = os.path.join(work, "big.py")
        with open(client, "w") as f:
            f.write(CLIENT)
        with open(big, "w") as f:
            f.write(BIG)
        readonly = "mount --bind %s /dev/shm && mount -o remount,bind,ro /dev/shm" % empty

        r = in_namespace(readonly, client, ["fork"])
        ok(r.returncode != 0 and "pool" not in r.stdout and
           ("Read-only file system" in r.stderr or "Function not implemented" in r.stderr),
           "without the shim, multiprocessing.Pool fails on an unusable /dev/shm",
           r.stdout + r.stderr[-2000:])
        for method in ("fork", "spawn"):
            trace = os.path.join(work, "trace.%s" % method)
            r = in_namespace(readonly, client, [method], root=root, trace=trace)
            out = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
            ok(r.returncode == 0 and out.get("pool") == "328350",
               "%s: with the shim, Pool(2).map computes the right answer" % method,
               r.stdout + r.stderr[-2000:])
            ok(out.get("shared") == "3 3",
               "%s: Lock and Queue between processes, and a SharedMemory they all bumped" % method,
               out)
            ok(out.get("manager") == "42", "%s: a Manager dict works" % method, out)
            log = open(trace).read() if os.path.exists(trace) else ""
            sems = [l for l in log.splitlines() if "sem_open(" in l and
                    "file %s/.SEMD" % root in l and l.endswith("= 0")]
            shms = [l for l in log.splitlines() if 'shm_open("/nodevshm"' in l and
                    "file %s/.SHMDnodevshm" % root in l]
            ok(len(sems) >= 2 and len(shms) >= 2,
               "%s: the semaphores and the object went through the shim (%d sem_open, %d shm_open)"
               % (method, len(sems), len(shms)), log[-2000:])
            ok(os.listdir(root) == [], "%s: nothing is left in the root" % method, os.listdir(root))

        tiny = "mount -t tmpfs -o size=1m tmpfs /dev/shm"
        r = in_namespace(tiny, big, [])
        ok(r.returncode != 0 and "filled" not in r.stdout,
           "a 64 MB SharedMemory filled on a 1 MB /dev/shm fails natively (%s)" %
           ("SIGBUS" if r.returncode == -7 or r.returncode == 135 else "exit %d" % r.returncode),
           r.stderr[-1000:])
        r = in_namespace(tiny, big, [], root=root)
        ok(r.returncode == 0 and r.stdout.strip() == "filled %d" % (64 << 20 >> 12),
           "... and works with the shim's root on a directory with room", r.stdout + r.stderr[-1000:])
        ok(os.listdir(root) == [], "... leaving nothing behind")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return done()


sys.exit(main())

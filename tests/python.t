#!/usr/bin/python3
"""Python programs under the shim: ctypes and multiprocessing.shared_memory.

Each client runs as a real python3 process with the library preloaded; the
test checks what it did (the bytes it shared) and where (the files under
SHMSHIM_DIR while the object lives, nothing after)."""
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


def run(code, root, *args):
    """Runs code as a script file (spawn needs one) under the shim."""
    env = dict(os.environ, LD_PRELOAD=LIB, SHMSHIM_DIR=root)
    with tempfile.TemporaryDirectory(prefix="shmshim-py.") as d:
        script = os.path.join(d, "client.py")
        with open(script, "w") as f:
            f.write(code)
        p = subprocess.run([PYTHON, script] + list(args), env=env,
                           capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        print("# exit %d\n# %s" % (p.returncode, p.stderr.replace("\n", "\n# ")))
    return p


CTYPES = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.shm_open(b"/ctypes", os.O_RDWR | os.O_CREAT, 0o600)
assert fd >= 0, ctypes.get_errno()
os.write(fd, b"via ctypes")
print(os.path.isfile(os.path.join(os.environ["SHMSHIM_DIR"], ".SHMDctypes")))
os.close(fd)
assert libc.shm_unlink(b"/ctypes") == 0
"""

# The parent creates an object, a second process (started with the given
# start method, so either a fork or a fresh interpreter) attaches by name,
# checks the parent's bytes and writes its answer; the parent checks it.
SHARED = r"""
import multiprocessing as mp, os, sys
from multiprocessing import shared_memory


def child(name, q):
    s = shared_memory.SharedMemory(name=name)
    ok = bytes(s.buf[:5]) == b"hello" and s.size >= 1 << 20
    s.buf[5:10] = b"world"
    s.close()
    q.put(ok)

if __name__ == "__main__":
    method = sys.argv[1]
    ctx = mp.get_context(method)
    s = shared_memory.SharedMemory(name="pyshm_" + method, create=True, size=1 << 20)
    s.buf[:5] = b"hello"
    path = os.path.join(os.environ["SHMSHIM_DIR"], ".SHMD" + s.name.lstrip("/"))
    print("file", os.path.isfile(path), os.path.getsize(path) if os.path.exists(path) else -1)
    q = ctx.Queue()
    p = ctx.Process(target=child, args=(s.name, q))
    p.start()
    print("child", q.get(timeout=30))
    p.join(60)
    print("exit", p.exitcode)
    print("answer", bytes(s.buf[5:10]).decode())
    s.close()
    s.unlink()
    print("after", os.path.exists(path))
"""


def main():
    if not os.path.exists(PYTHON):
        print("1..0 # SKIP %s is not installed" % PYTHON)
        return 0
    root = tempfile.mkdtemp(prefix="shmshim-test.")
    os.chmod(root, 0o1777)
    try:
        p = run(CTYPES, root)
        ok(p.returncode == 0 and p.stdout.strip() == "True",
           "ctypes: shm_open looked up with dlsym is the shim's")
        ok(os.listdir(root) == [], "ctypes: nothing left after shm_unlink")

        for method in ("fork", "spawn"):
            p = run(SHARED, root, method)
            out = dict(line.split(" ", 1) for line in p.stdout.splitlines())
            ok(p.returncode == 0, "shared_memory (%s): the program succeeds" % method)
            ok(out.get("file") == "True 1048576",
               "shared_memory (%s): the object is <root>/.SHMDpyshm_%s, 1 MiB, while it lives"
               % (method, method))
            ok(out.get("child") == "True" and out.get("exit") == "0",
               "shared_memory (%s): a second process attaches and reads the data" % method)
            ok(out.get("answer") == "world",
               "shared_memory (%s): the first process sees what the second wrote" % method)
            ok(out.get("after") == "False" and os.listdir(root) == [],
               "shared_memory (%s): unlink leaves the root empty" % method)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return done()


sys.exit(main())

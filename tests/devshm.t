#!/usr/bin/python3
"""/dev/shm as a whole (shim/devshm.c): under the shim, the file
/dev/shm/NAME is the object /NAME.

CPython's multiprocessing makes Value, Array and Barrier (its shared heap)
as files in /dev/shm after os.statvfs("/dev/shm"). In private mount
namespaces where /dev/shm is missing (like AWS Lambda's) or read-only,
they fail natively, with fork and spawn, and work under the shim; and
CPython's own test classes for them pass there. A C program that writes
/dev/shm/x with open and write and one that reads shm_open("/x") see the
same bytes, and shm_unlink removes what open made, on glibc, musl and
aarch64. Where /dev/shm holds 1 MB, CPython's heap is made outside it
natively, and in the root under the shim. statvfs of /dev/shm
describes the root's file system, and the stat family and access of
/dev/shm and /dev/shm/NAME the root and the object; paths that only look
alike go to the C
library untouched; a link planted at an object's file is not followed;
SHMSHIM_DEVSHM=native turns it all off."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip, skip_all, done, lambda_like, can_unshare, platform  # noqa: E402,E501

LIB = os.path.join(BUILD, "libshmshim.so")
TOOL = os.path.join(BUILD, "tests", "shm_tool")
PYTHON = "/usr/bin/python3"

# Value, Array (also as a Pool argument's target) and Barrier between
# processes, with the start method given.
HEAP = r'''
import multiprocessing as mp, sys

def bump(v, a, b):
    with v.get_lock():
        v.value += 1
    with a.get_lock():
        a[0] += 1
    b.wait(60)

def fill(i):
    arr[i] = i * i
    return i

def init(shared):
    global arr
    arr = shared

if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    v, a, b = mp.Value("i", 0), mp.Array("d", 8), mp.Barrier(3)
    kids = [mp.Process(target=bump, args=(v, a, b)) for _ in range(2)]
    for k in kids: k.start()
    b.wait(60)
    for k in kids: k.join(60)
    shared = mp.Array("i", 16)
    with mp.Pool(2, initializer=init, initargs=(shared,)) as p:
        p.map(fill, range(16))
    print("value", v.value, "array", a[0], "pool", sum(shared[:]), flush=True)
'''
HEAP_OK = "value 2 array 2.0 pool 1240"

# The heap program's file, once written (main).
HEAP_SCRIPT = [None]

# /dev/shm read-only and empty, in the namespace.
READ_ONLY = "mount -t tmpfs -o ro,size=4k shmshim-ro /dev/shm"


def base_env():
    return {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "SHMSHIM_"))}


def shim_env(root, **more):
    return dict(base_env(), LD_PRELOAD=LIB, SHMSHIM_DIR=root, **more)


def in_namespace(setup, cmd, env):
    """cmd with /dev/shm missing (setup None: Lambda's shape) or as setup
    makes it."""
    if setup is None:
        return lambda_like(cmd, env)
    script = setup + ' && exec "$@"'
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"]
                          + cmd, env=env, capture_output=True, text=True, timeout=600)


def test_heap(root, script):
    for where, setup in (("missing", None), ("read-only", READ_ONLY)):
        for method in ("fork", "spawn"):
            r = in_namespace(setup, [PYTHON, script, method], base_env())
            ok(r.returncode != 0 and ("[Errno 2]" in r.stderr or "[Errno 30]" in r.stderr or
                                      "Read-only" in r.stderr or "No such file" in r.stderr),
               "%s /dev/shm, %s: Value, Array and Barrier fail natively" % (where, method),
               r.stdout + r.stderr[-500:])
            r = in_namespace(setup, [PYTHON, script, method], shim_env(root))
            ok(r.returncode == 0 and HEAP_OK in r.stdout,
               "... and work under the shim, Pool with a shared Array too", r.stdout + r.stderr[-1500:])
    ok(os.listdir(root) == [], "... leaving nothing in the root", os.listdir(root))
    r = lambda_like(["stat", "-c", "%F", "/dev/shm"], base_env())
    r2 = lambda_like(["stat", "-c", "%F", "/dev/shm"], shim_env(root))
    ok(r.returncode != 0 and r2.returncode == 0 and r2.stdout.strip() == "directory",
       "stat(1) (statx) finds no /dev/shm natively, and the root's directory under the shim",
       r.stderr + r2.stdout + r2.stderr)
    r = lambda_like([PYTHON, script, "fork"], shim_env(root, SHMSHIM_DEVSHM="native"))
    ok(r.returncode != 0, "SHMSHIM_DEVSHM=native leaves /dev/shm to the C library: they fail again",
       r.stdout + r.stderr[-300:])


# An 8 MB shared Array, more than a 1 MB /dev/shm holds: where its heap's
# file is mapped from.
BIG = r'''
import multiprocessing as mp
a = mp.Array("b", 8 << 20, lock=False)
a[-1] = 7
files = [l.split(None, 5)[5] for l in open("/proc/self/maps") if "pym-" in l]
print("mapped", files[0] if files else "nothing", a[-1])
'''


def test_tiny(root):
    """A 1 MB /dev/shm: natively CPython's heap goes elsewhere (its statvfs
    says the space is short); under the shim statvfs describes the root
    and the heap's file is an object there."""
    tiny = "mount -t tmpfs -o size=1m shmshim-tiny /dev/shm"
    r = in_namespace(tiny, [PYTHON, "-c", BIG], base_env())
    ok(r.returncode == 0 and "mapped " in r.stdout and " 7" in r.stdout and
       "/dev/shm/" not in r.stdout and root not in r.stdout,
       "1 MB /dev/shm: natively an 8 MB Array's heap is made outside /dev/shm", r.stdout + r.stderr)
    r = in_namespace(tiny, [PYTHON, "-c", BIG], shim_env(root))
    ok(r.returncode == 0 and ("mapped %s/.SHMDpym-" % root) in r.stdout and " 7" in r.stdout,
       "... and under the shim in the root, as an object", r.stdout + r.stderr)
    for method in ("fork", "spawn"):
        r = in_namespace(tiny, [PYTHON, HEAP_SCRIPT[0], method], shim_env(root))
        ok(r.returncode == 0 and HEAP_OK in r.stdout,
           "... where Value, Array, Barrier and Pool work (%s)" % method, r.stdout + r.stderr[-1500:])
    ok(os.listdir(root) == [], "... leaving nothing in the root", os.listdir(root))


def test_cpython_classes(root):
    have = subprocess.run([PYTHON, "-c", "import test._test_multiprocessing"],
                          capture_output=True).returncode == 0
    if not have:
        skip(2, "CPython's test suite is not installed (libpython3.11-testsuite)")
        return
    for method in ("fork", "spawn"):
        classes = ["test.test_multiprocessing_%s.WithProcessesTest%s" % (method, c)
                   for c in ("Value", "Array", "Barrier", "Heap", "SharedCTypes")]
        r = lambda_like([PYTHON, "-m", "unittest"] + classes, dict(shim_env(root), TMPDIR="/tmp"))
        ran = re.search(r"^Ran (\d+) tests?", r.stderr, re.M)
        ok(r.returncode == 0 and ran and int(ran.group(1)) > 20 and
           r.stderr.rstrip().splitlines()[-1].startswith("OK"),
           "%s: CPython's Value, Array, Barrier, Heap and SharedCTypes tests pass under the "
           "shim where there is no /dev/shm (%s tests)" % (method, ran.group(1) if ran else "no"),
           r.stderr[-3000:])


def test_equivalence(root):
    env = shim_env(root)
    r = subprocess.run([TOOL, "devshm-write", "x", "hello from open"], env=env,
                       capture_output=True, text=True)
    ok(r.returncode == 0 and os.path.isfile(os.path.join(root, ".SHMDx")) and
       not os.path.exists("/dev/shm/x"),
       "a C program's open and write of /dev/shm/x make the object /x (<root>/.SHMDx)",
       r.stderr)
    r = subprocess.run([TOOL, "read", "/x"], env=env, capture_output=True, text=True)
    ok(r.returncode == 0 and r.stdout == "hello from open",
       "... which another reads through shm_open(\"/x\")", r.stdout + r.stderr)
    r = subprocess.run([TOOL, "unlink", "/x"], env=env, capture_output=True, text=True)
    ok(r.returncode == 0 and os.listdir(root) == [], "... and shm_unlink(\"/x\") removes it",
       r.stderr)
    code = ("import os\n"
            "fd = os.open('/dev/shm/y', os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)\n"
            "os.write(fd, b'abc')\n"
            "print(os.get_inheritable(fd), os.fstat(fd).st_size)\n"
            "os.unlink('/dev/shm/y')\n"
            "try:\n"
            "    os.open('/dev/shm/y', os.O_RDONLY)\n"
            "except FileNotFoundError:\n"
            "    print('gone')\n")
    r = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True)
    ok(r.returncode == 0 and r.stdout.split() == ["False", "3", "gone"] and
       os.listdir(root) == [],
       "Python's os.open and os.unlink of /dev/shm/y: the object, close-on-exec as asked",
       r.stdout + r.stderr)
    code = ("import os\n"
            "fd = os.open('/dev/shm/s', os.O_RDWR | os.O_CREAT, 0o640)\n"
            "os.write(fd, b'12345'); os.close(fd)\n"
            "st = os.stat('/dev/shm/s')\n"
            "print(st.st_size, oct(st.st_mode & 0o777), os.path.exists('/dev/shm/s'),\n"
            "      os.path.exists('/dev/shm/none'), os.access('/dev/shm/s', os.R_OK),\n"
            "      os.stat('/dev/shm').st_ino == os.stat(os.environ['SHMSHIM_DIR']).st_ino,\n"
            "      os.access('/dev/shm', os.W_OK))\n"
            "os.unlink('/dev/shm/s')\n")
    r = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True)
    ok(r.returncode == 0 and r.stdout.split() == ["5", "0o640", "True", "False", "True", "True",
                                                  "True"] and os.listdir(root) == [],
       "stat, lstat and access of /dev/shm/s describe the object; of /dev/shm, the root",
       r.stdout + r.stderr)
    fs_root = os.statvfs(root)
    r = subprocess.run([PYTHON, "-c", "import os; s = os.statvfs('/dev/shm'); "
                        "print(s.f_fsid, s.f_blocks)"], env=env, capture_output=True, text=True)
    ok(r.stdout.split() == [str(fs_root.f_fsid), str(fs_root.f_blocks)],
       "statvfs(\"/dev/shm\") describes the root's file system", r.stdout + r.stderr)


def test_platforms(root):
    """The same on musl and on aarch64 (under qemu-aarch64)."""
    for name in ("musl", "aarch64"):
        setup = platform(name)
        if isinstance(setup, str):
            skip(2, setup)
            continue
        build, prefix, _, preload = setup
        tool = prefix + [os.path.join(build, "tests", "shm_tool")]
        env = dict(base_env(), SHMSHIM_DIR=root, **preload)
        w = subprocess.run(tool + ["devshm-write", "p", name], env=env, capture_output=True,
                           text=True, timeout=120)
        r = subprocess.run(tool + ["read", "/p"], env=env, capture_output=True, text=True,
                           timeout=120)
        ok(w.returncode == 0 and r.stdout == name,
           "%s: what open and write put in /dev/shm/p, shm_open(\"/p\") reads" % name,
           w.stderr + r.stdout + r.stderr)
        r = subprocess.run(tool + ["unlink", "/p"], env=env, capture_output=True, text=True,
                           timeout=120)
        ok(r.returncode == 0 and os.listdir(root) == [], "%s: ... and shm_unlink removes it" % name,
           r.stderr)


def test_untouched(root):
    env = shim_env(root)
    code = ("import os\n"
            "for p in ('/dev/shmx', '/dev/sh', '/dev/shm/../shm', 'dev/shm/c'):\n"
            "    try:\n"
            "        os.open(p, os.O_RDONLY)\n"
            "        print(p, 'opened')\n"
            "    except OSError as e:\n"
            "        print(p, e.errno)\n")
    r = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True, cwd=root)
    ok(r.returncode == 0 and r.stdout.split() == ["/dev/shmx", "2", "/dev/sh", "2",
                                                  "/dev/shm/../shm", "opened", "dev/shm/c", "2"]
       and os.listdir(root) == [],
       "paths that only look alike, a first name '..' and a relative one go to the C library",
       r.stdout + r.stderr)
    target = os.path.join(root, "target")
    with open(target, "w") as f:
        f.write("keep")
    os.symlink(target, os.path.join(root, ".SHMDlink"))
    r = subprocess.run([PYTHON, "-c", "import os\ntry:\n    os.open('/dev/shm/link', os.O_RDWR | "
                        "os.O_TRUNC)\nexcept OSError as e:\n    print(e.errno)"],
                       env=env, capture_output=True, text=True)
    ok(r.stdout.strip() == "22" and open(target).read() == "keep",
       "a link planted at <root>/.SHMDlink: open of /dev/shm/link gives EINVAL, truncates nothing",
       r.stdout + r.stderr)
    os.unlink(os.path.join(root, ".SHMDlink"))
    os.unlink(target)
    if not os.path.isdir("/dev/shm"):
        skip(1, "no /dev/shm here")
        return
    inside = tempfile.mkdtemp(prefix="shmshim-root.", dir="/dev/shm")
    try:
        code = ("import os, sys\nos.mkdir(sys.argv[1] + '/sub')\n"
                "open(sys.argv[1] + '/sub/f', 'w').write('real')\n"
                "print(open(sys.argv[1] + '/sub/f').read())")
        r = subprocess.run([PYTHON, "-c", code, inside], env=shim_env(inside), capture_output=True,
                           text=True)
        ok(r.stdout.strip() == "real" and os.listdir(inside) == ["sub"],
           "a root in /dev/shm: paths beneath /dev/shm are the real ones (the root's own too)",
           r.stdout + r.stderr + str(os.listdir(inside)))
    finally:
        shutil.rmtree(inside, ignore_errors=True)


def main():
    if not os.path.exists(TOOL):
        skip_all("%s is not built" % TOOL)
    root = tempfile.mkdtemp(prefix="shmshim-test.")
    os.chmod(root, 0o1777)
    work = tempfile.mkdtemp(prefix="shmshim-devshm.")
    os.chmod(work, 0o755)
    try:
        test_equivalence(root)
        test_platforms(root)
        test_untouched(root)
        if not can_unshare():
            skip(18, "namespaces without /dev/shm need root and unshare -m")
        else:
            script = os.path.join(work, "heap.py")
            with open(script, "w") as f:
                f.write(HEAP)
            test_heap(root, script)
            HEAP_SCRIPT[0] = script
            test_tiny(root)
            test_cpython_classes(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return done()


sys.exit(main())

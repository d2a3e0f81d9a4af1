#!/usr/bin/python3
"""CPython's own multiprocessing tests under the shim.

Runs the shared-memory test class of test._test_multiprocessing (Debian's
libpython3.11-testsuite) with the fork and the spawn start methods; all must
pass. strace shows that the objects really were files under SHMSHIM_DIR and
never in /dev/shm. Then the lock, semaphore, condition, event, barrier,
queue and pool classes, which use named semaphores, run under the shim too,
and their counts are reported."""
import os
import re
import shutil
import subprocess
import sys
import tempfile


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip, skip_all, done  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(BUILD, "libshmshim.so")
PYTHON = "/usr/bin/python3"
SYNC_CLASSES = ["Lock", "Semaphore", "Condition", "Event", "Barrier", "Queue", "Pool"]


def unittest(root, classes, trace=None):
    env = dict(os.environ, LD_PRELOAD=LIB, SHMSHIM_DIR=root)
    cmd = [PYTHON, "-m", "unittest"] + classes
    if trace:
        cmd = ["strace", "-f", "-qq", "-e", "trace=openat,unlink,unlinkat", "-o", trace] + cmd
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    ran = re.search(r"^Ran (\d+) tests?", p.stderr, re.M)
    return p, int(ran.group(1)) if ran else 0


def main():
    have = subprocess.run([PYTHON, "-c", "import test._test_multiprocessing"],
                          capture_output=True).returncode == 0
    if not have:
        print("1..0 # SKIP CPython's test suite is not installed (libpython3.11-testsuite)")
        return 0
    root = tempfile.mkdtemp(prefix="shmshim-test.")
    os.chmod(root, 0o1777)
    try:
        for method in ("fork", "spawn"):
            trace = os.path.join(root + ".strace") if shutil.which("strace") else None
            cls = "test.test_multiprocessing_%s.WithProcessesTestSharedMemory" % method
            p, ran = unittest(root, [cls], trace)
            ok(p.returncode == 0 and ran >= 13 and p.stderr.rstrip().endswith("OK"),
               "%s: CPython's shared-memory tests pass under the shim (%d tests)" % (method, ran),
               p.stderr[-3000:])
            if trace:
                log = open(trace).read()
                os.unlink(trace)
                ours = len(re.findall(r'openat\(AT_FDCWD, "%s/\.SHMD' % re.escape(root), log))
                native = len(re.findall(r'"/dev/shm/', log))
                ok(ours > 0 and native == 0,
                   "%s: %d opens of <root>/.SHMD* files, none in /dev/shm" % (method, ours),
                   "native opens: %d" % native)
            else:
                skip(1, "strace is not installed")
            ok(os.listdir(root) == [], "%s: nothing is left in the root" % method,
               os.listdir(root))

        classes = ["test.test_multiprocessing_fork.WithProcessesTest%s" % c for c in SYNC_CLASSES]
        p, ran = unittest(root, classes)
        summary = p.stderr.rstrip().splitlines()[-1] if p.stderr.strip() else ""
        print("# lock, semaphore, condition, event, barrier, queue, pool (fork): "
              "ran %d, %s" % (ran, summary))
        ok(p.returncode == 0 and ran > 0,
           "CPython's synchronisation, queue and pool tests pass under the shim (%d tests)" % ran,
           p.stderr[-3000:])
        ok(os.listdir(root) == [], "... leaving nothing in the root", os.listdir(root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return done()


sys.exit(main())

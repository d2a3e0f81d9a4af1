#!/usr/bin/python3
"""shmclean in a hostile root: its messages and output."""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import ok, skip, skip_all, done  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLEAN = os.path.join(TOP, "build", "shmclean")


@contextlib.contextmanager
def fresh_root(prefix="shmshim-out.", where=None):
    root = tempfile.mkdtemp(prefix=prefix, dir=where)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def plant(root, names):
    for name in names:
        with open(os.fsencode(root) + b"/.SHMD" + name, "wb"):
            pass


def shmclean(root, *args, env=None, valgrind=False):
    """Runs shmclean on root (SHMSHIM_DIR unless env says otherwise); bytes out."""
    e = dict(os.environ)
    e.pop("LD_PRELOAD", None)
    e.pop("SHMSHIM_DIR", None)
    if root is not None:
        e["SHMSHIM_DIR"] = root
    e.update(env or {})
    cmd = [CLEAN] + list(args)
    if valgrind:
        cmd = ["valgrind", "-q", "--error-exitcode=99"] + cmd
    return subprocess.run(cmd, env=e, capture_output=True, timeout=120)


def test_bad_root():
    """A missing root and a root that is a file: exit 1, the right reason."""
    with fresh_root() as root:
        missing, regular = root + "/missing", root + "/file"
        open(regular, "w").close()
        r = shmclean(None, "-l", "-d", missing)
        ok(r.returncode == 1 and
           r.stderr == ("shmclean: %s: No such file or directory\n" % missing).encode(),
           "a missing root: exit 1, 'No such file or directory'", r.stderr)
        r = shmclean(None, "-l", "-d", regular)
        ok(r.returncode == 1 and r.stderr == ("shmclean: %s: not a directory\n" % regular).encode(),
           "a root that is a file: exit 1, 'not a directory'", r.stderr)
        if shutil.which("valgrind") is None:
            skip(2, "valgrind is not installed")
            return
        for d, reason in ((missing, b"No such file"), (regular, b"not a directory")):
            r = shmclean(None, "-l", "-d", d, valgrind=True)
            ok(r.returncode == 1 and reason in r.stderr and b"==" not in r.stderr,
               "... under valgrind, no error (%s)" % reason.decode(), r.stderr)


def main():
    if not os.path.exists(CLEAN):
        skip_all("%s is not built" % CLEAN)
    test_bad_root()
    return done()


sys.exit(main())

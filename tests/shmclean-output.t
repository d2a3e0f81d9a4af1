#!/usr/bin/python3
"""shmclean in a hostile root: its messages and output."""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import ok, skip, skip_all, done  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLEAN = os.path.join(TOP, "build", "shmclean")
PATH_MAX = 4096  # Linux's, as in <limits.h>
LONG_MAX = 2**63 - 1


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


def one_line(r):
    return r.stderr.count(b"\n") == 1


def test_bad_dir():
    """An empty or over-long --dir or SHMSHIM_DIR is a usage error, not /tmp."""
    long_dir = "/" + "d" * PATH_MAX
    for args, env, what, problem in (
            (["-d", ""], None, "--dir", "empty"),
            (["--dir="], None, "--dir", "empty"),
            (["-d", long_dir], None, "--dir", "too long"),
            ([], {"SHMSHIM_DIR": ""}, "SHMSHIM_DIR", "empty"),
            ([], {"SHMSHIM_DIR": long_dir}, "SHMSHIM_DIR", "too long")):
        r = shmclean(None, "-l", *args, env=env)
        err = r.stderr.decode("utf-8", "replace")
        ok(r.returncode == 2 and r.stdout == b"" and one_line(r) and
           err.startswith("shmclean: " + what) and problem in err,
           "%s %s: exit 2, nothing listed, one line saying it is %s"
           % (what, "of %d bytes" % len(long_dir) if problem == "too long" else "empty",
              problem), (r.returncode, err, r.stdout[:200]))
    r = shmclean(None, "-l", "-d", "/" + "d" * (PATH_MAX - 2))
    ok(r.returncode == 1 and b"File name too long" in r.stderr,
       "--dir of PATH_MAX-1 bytes is used as given (and the system refuses it)", r.stderr)
    with fresh_root() as root:
        r = shmclean(None, "-l", "-d", root, env={"SHMSHIM_DIR": ""})
        ok(r.returncode == 0, "an empty SHMSHIM_DIR does not matter when --dir is given",
           r.stderr)


def test_older_than():
    """--older-than whose seconds do not fit is a usage error, not a wrap."""
    with fresh_root() as root:
        plant(root, [b"old"])
        two_days_ago = time.time() - 2 * 86400
        os.utime(os.path.join(root, ".SHMDold"), (two_days_ago, two_days_ago))
        r = shmclean(root, "-n", "--older-than", "1d")
        ok(r.returncode == 0 and r.stdout == b"would remove shm /old (orphan, 0 bytes)\n",
           "-n --older-than 1d would remove a 2-day-old orphan", r.stdout)
        for age in ("144115188075855873d", "106751991167301d", "153722867280912931m",
                    "2562047788015216h", "9223372036854775808", "99999999999999999999s"):
            r = shmclean(root, "-n", "--older-than", age)
            err = r.stderr.decode("utf-8", "replace")
            ok(r.returncode == 2 and r.stdout == b"" and "too long" in err and
               "106751991167300d" in err,
               "--older-than %s does not fit: exit 2, naming the limit" % age,
               (r.returncode, err, r.stdout))
        for age in ("106751991167300d", str(LONG_MAX)):
            r = shmclean(root, "-n", "--older-than", age)
            ok(r.returncode == 0 and r.stdout == b"",
               "--older-than %s, the most there is: accepted, and keeps the orphan" % age,
               (r.returncode, r.stderr, r.stdout))
        ok(os.listdir(root) == [".SHMDold"], "... nothing was removed", os.listdir(root))


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
    test_bad_dir()
    test_older_than()
    test_bad_root()
    return done()


sys.exit(main())

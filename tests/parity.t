#!/usr/bin/python3
"""glibc mode gives glibc's answers: the same list of calls (tests/parity.c:
empty names, slashes, "." and "..", lengths 248 to 261 and beyond for both
kinds, every flag combination, O_EXCL on an existing object) runs natively,
glibc on the real /dev/shm, and under the shim with SHMSHIM_NAMES=glibc;
each result and errno must be the same, except where the README's
difference table says otherwise. Each such exception is listed below with
the README row that documents it; one that no longer differs is an error
too (the README would then be wrong).

The shim answers the same on the other platforms make check builds (musl,
and aarch64 under qemu-aarch64): there the list runs under the platform's
library only, and must give the x86_64 glibc build's answers, line by
line."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip, skip_all, done, platform  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(BUILD, "libshmshim.so")
PROG = os.path.join(BUILD, "tests", "parity")
README = os.path.join(TOP, "README.md")


def drop_flags(result):
    return re.sub(r" (nonblock|append)", "", result)


# (case id pattern, the README row that documents it, check(native, shim))
DOCUMENTED = [
    (r"^shm flags O_WRONLY", "| `O_WRONLY` |",
     lambda n, s: s == "EINVAL"),
    (r"^shm flags O_RDONLY\|(O_CREAT\|)?O_TRUNC ", "| `O_RDONLY` with `O_TRUNC` |",
     lambda n, s: s == "EINVAL"),
    (r"^shm flags O_RDWR\|(O_NONBLOCK|O_APPEND) existing", "| other flags (`O_NONBLOCK`, ...) |",
     lambda n, s: s == drop_flags(n) and s != n),
    (r'^shm "/*\.\.?" open (missing|existing) rdonly', "| a shared memory object named `.` or `..`",
     lambda n, s: s == "EINVAL" and n.startswith("ok") and "not-regular" in n),
]


def run(tag, shim, root, prog=(PROG,), preload=None):
    """Runs the list natively, or under the shim (preload: the environment
    that preloads it; by default LD_PRELOAD of this build's library)."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("SHMSHIM_")}
    if shim:
        env.update(preload or {"LD_PRELOAD": LIB})
        env.update(SHMSHIM_DIR=root, SHMSHIM_NAMES="glibc", SHMSHIM_QUIET="1")
    p = subprocess.run(list(prog) + [tag], env=env, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError("parity %s failed (%d): %s" % ("under the shim" if shim else "natively",
                                                         p.returncode, p.stderr))
    return [tuple(line.split("\t", 1)) for line in p.stdout.splitlines()]


def same_on(name, tag, root, shim):
    """The list under another platform's library gives these answers."""
    setup = platform(name)
    if isinstance(setup, str):
        skip(2, setup)
        return
    build, prefix, _, preload = setup
    theirs = run(tag, True, root, prefix + [os.path.join(build, "tests", "parity")], preload)
    differ = ["%s: x86_64 glibc %s, %s %s" % (a[0], a[1], name, b[1])
              for a, b in zip(shim, theirs) if a != b]
    ok(len(theirs) == len(shim) and not differ,
       "on %s, the shim gives the same %d answers" % (name, len(shim)), "\n".join(differ[:20]))
    ok(os.listdir(root) == [], "... and leaves nothing in the root", os.listdir(root))


def main():
    if not (os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK)):
        skip_all("no writable /dev/shm here to give glibc's own answers")
    tag = "shmshim-parity-%d-" % os.getpid()
    root = tempfile.mkdtemp(prefix="shmshim-parity.")
    try:
        os.chmod(root, 0o1777)
        native = run(tag, False, root)
        shim = run(tag, True, root)
        ok(len(native) > 700 and [i for i, _ in native] == [i for i, _ in shim],
           "both runs made the same %d calls" % len(native))
        seen = {row: 0 for _, row, _ in DOCUMENTED}
        same = 0
        for (case, n), (_, s) in zip(native, shim):
            doc = [(row, check) for pat, row, check in DOCUMENTED if re.search(pat, case)]
            if n == s and not doc:
                same += 1
                continue
            if doc and n != s and doc[0][1](n, s):
                seen[doc[0][0]] += 1
                continue
            ok(False, "%s: glibc gives %s, the shim in glibc mode %s" % (case, n, s),
               "documented as: %s" % doc[0][0] if doc else "not in the README's table")
        ok(same > 600, "%d calls give glibc's own answer" % same)
        with open(README) as f:
            readme = f.read()
        for row, count in seen.items():
            ok(count > 0, "the documented difference '%s' is seen (%d calls)" % (row, count),
               "it no longer differs: the README's row is out of date")
            ok(row in readme, "... and is a row of the README's difference table")
        ok(os.listdir(root) == [], "the shim's calls left nothing in the root",
           os.listdir(root))
        left = [f for f in os.listdir("/dev/shm") if tag in f]
        ok(left == [], "the native calls left nothing in /dev/shm", left)
        for name in ("musl", "aarch64"):
            same_on(name, tag, root, shim)
    finally:
        for f in os.listdir("/dev/shm"):
            if tag in f:
                os.unlink(os.path.join("/dev/shm", f))
        shutil.rmtree(root, ignore_errors=True)
    done()


main()

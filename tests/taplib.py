"""TAP output for the Python tests (tests/*.t written in Python)."""
import sys

_count = 0
_failed = 0


def ok(cond, desc, detail=None):
    """Reports one test; on failure, detail follows as comments."""
    global _count, _failed
    _count += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (_count, desc), flush=True)
    if not cond:
        _failed += 1
        if detail:
            print("# " + str(detail).replace("\n", "\n# "), flush=True)
    return cond


def skip(n, why):
    """Reports n tests skipped, and why."""
    global _count
    for _ in range(n):
        _count += 1
        print("ok %d # skip %s" % (_count, why), flush=True)


def skip_all(why):
    print("1..0 # SKIP %s" % why, flush=True)
    sys.exit(0)


def done():
    """Prints the plan; returns the exit status."""
    print("1..%d" % _count, flush=True)
    return 1 if _failed else 0


def public_copies(*paths):
    """Copies files into a directory every user can read, for tests that run
    them as other users: the checkout itself may be private to its owner
    (CI's is), and a preload library that a user cannot read is silently
    not loaded. The copies are removed at exit."""
    import atexit
    import os
    import shutil
    import tempfile
    where = tempfile.mkdtemp(prefix="shmshim-bin.")
    os.chmod(where, 0o755)
    atexit.register(shutil.rmtree, where, True)
    copies = []
    for path in paths:
        copy = os.path.join(where, os.path.basename(path))
        shutil.copy2(path, copy)
        os.chmod(copy, 0o755)
        copies.append(copy)
    return copies

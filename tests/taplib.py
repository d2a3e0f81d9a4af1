"""TAP output for the Python tests (tests/*.t written in Python), and where
the build under test is: $BUILDDIR (make check exports it), relative to the
top of the tree unless absolute, else build/."""
import os
import pwd
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, os.environ.get("BUILDDIR") or "build")

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


def platform(name):
    """How to run the programs of another platform's build, made by make
    check when its compiler is there (tests/run): name is "musl" or
    "aarch64". Returns (build, prefix, env, preload_env): the build
    directory, the command words to put before a program (the emulator),
    the environment to add to run it, and the environment to add to run
    it with the platform's library preloaded into it alone. Or a string:
    why that platform cannot be tested here."""
    import subprocess
    build = os.path.join(BUILD, name)
    lib = os.path.join(build, "libshmshim.so")
    if name == "musl":
        if not os.path.exists(lib):
            return "no musl build: %s is missing (Debian: musl musl-dev musl-tools)" % \
                os.environ.get("MUSL_CC", "musl-gcc")
        return build, [], {}, {"LD_PRELOAD": lib}
    out = subprocess.run(["sh", "-c", '. "$1"; printf "%s\\n%s" "$aarch64_skip" "$aarch64_prefix"',
                          "sh", os.path.join(TOP, "tests", "aarch64.sh")],
                         env=dict(os.environ, build=BUILD), capture_output=True, text=True,
                         check=True).stdout
    why, prefix = (out.split("\n") + [""])[:2]
    if why:
        return why
    env = {"QEMU_LD_PREFIX": prefix}
    return build, ["qemu-aarch64"], env, dict(env, QEMU_SET_ENV="LD_PRELOAD=" + lib)


# Shell commands that make a mount namespace look like AWS Lambda's: no
# /dev/shm at all (a fresh /dev holding only the usual character devices
# and the /dev/fd links), and a read-only root file system where only /tmp
# can be written. Run by lambda_like() in a private namespace: nothing of
# it is seen outside, and the one directory it makes is removed.
LAMBDA_SETUP = r'''
save=$(mktemp -d /tmp/shmshim-dev.XXXXXX) &&
mount --bind /dev "$save" &&
mount -t tmpfs -o mode=755,size=64k shmshim-dev /dev &&
for n in null zero full random urandom tty; do
	touch "/dev/$n" && mount --bind "$save/$n" "/dev/$n" || exit 1
done &&
ln -s /proc/self/fd /dev/fd && ln -s fd/0 /dev/stdin && ln -s fd/1 /dev/stdout &&
ln -s fd/2 /dev/stderr &&
umount -l "$save" && rmdir "$save" &&
mount --bind /tmp /tmp && mount -o remount,bind,ro / &&
env -u LD_PRELOAD test ! -e /dev/shm
'''


def can_unshare():
    """Whether this process may make private mount namespaces (root)."""
    import subprocess
    return os.getuid() == 0 and subprocess.run(["unshare", "-m", "true"]).returncode == 0


def lambda_like(cmd, env, setup="", timeout=300):
    """Runs cmd (a list) with env in a private mount namespace set up by
    LAMBDA_SETUP, after the shell commands in setup (which may mount what
    the command needs, such as a layer on /opt, while the root can still
    be written)."""
    import subprocess
    script = (setup.strip() + " &&\n" if setup else "") + LAMBDA_SETUP.strip() + " &&\nexec \"$@\""
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"]
                          + list(cmd), env=env, capture_output=True, text=True, timeout=timeout)


with open(os.path.join(TOP, "VERSION")) as _f:
    VERSION = _f.read().strip()

# A program that needs POSIX shared memory and semaphores between
# processes: multiprocessing's Pool, Lock and Queue, and a shared_memory
# block that two children bump under the lock. It fails where there is no
# usable /dev/shm (FileNotFoundError, [Errno 2]) unless the shim is loaded;
# mp_worked() tells whether it did all of it.
MP_CODE = r'''
import multiprocessing as mp
from multiprocessing import shared_memory
def triple(x):
    return x * 3
def child(lock, q, name):
    s = shared_memory.SharedMemory(name=name)
    with lock:
        s.buf[0] += 1
    s.close()
    q.put("hi")
if __name__ == "__main__":
    with mp.Pool(2) as p:
        print("pool", sum(p.map(triple, range(10))))
    lock, q = mp.Lock(), mp.Queue()
    s = shared_memory.SharedMemory(create=True, size=4096)
    kids = [mp.Process(target=child, args=(lock, q, s.name)) for _ in range(2)]
    for k in kids: k.start()
    print("got", [q.get(timeout=60) for _ in kids])
    for k in kids: k.join(60)
    print("shared", s.buf[0])
    s.close(); s.unlink()
'''


def mp_worked(r):
    """Whether a run of MP_CODE (a CompletedProcess) did all it should."""
    return r.returncode == 0 and all(w in r.stdout for w in
                                     ("pool 135", "got ['hi', 'hi']", "shared 2"))


def end_started(procs):
    """Ends the processes of procs (Popen objects a test started) that are
    still running, by PID, and reaps them."""
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def pg_bindir():
    """Where PostgreSQL's server programs are: pg_config says (Debian keeps
    them out of PATH, in a directory per major version); else PATH."""
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and os.path.exists(os.path.join(out.stdout.strip(), "postgres")):
            return out.stdout.strip()
    except OSError:
        pass
    found = shutil.which("postgres") or shutil.which("initdb") or "/nonexistent/postgres"
    return os.path.dirname(found)


# Settings that make PostgreSQL run even a small query in parallel workers.
PG_PARALLEL = ("SET force_parallel_mode = on; SET parallel_setup_cost = 0; "
               "SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; "
               "SET max_parallel_workers_per_gather = 2; ")


def as_user(user):
    """A preexec_fn that makes the child user (None: none, it stays as is)."""
    if user is None:
        return None
    pw = pwd.getpwnam(user)

    def demote():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return demote

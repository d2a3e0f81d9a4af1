#!/usr/bin/python3
"""shmclean is not held up by a file system that stops answering.

Another process keeps files open on a FUSE file system whose server then
answers nothing (tests/stallfs.py): a stat(2) of such a file waits for as
long as the server is silent, and cannot even be killed. shmclean looks at
every descriptor of every process; it must tell which ones are its objects
without asking that file system, finish, and still name the real users.
The FUSE mount is named like an object (.SHMDevil) and serves names like
objects', so that a filter on names alone cannot skip it.

System V segments (SHMSHIM_SYSV=files): frozen mounts at a key's lock
file (.SHVL<key>) and at a segment's name (.SHVD<id>) hold up neither
shmclean, which removes the orphan segment of that key anyway, nor the
library's shmget and shmat, which refuse them (EINVAL) at once."""
import ctypes
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip_all, done, public_copies  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
LIB = os.path.join(BUILD, "libshmshim.so")
TOOL = os.path.join(BUILD, "tests", "shm_tool")
CLEAN = os.path.join(BUILD, "shmclean")
STALLFS = os.path.join(HERE, "stallfs.py")
LIMIT = 20  # seconds; a run takes well under one
started = []  # processes this test started, ended by PID

# Opens the mount's root directory and three files on it, names like
# objects' and not, then holds them until standard input closes.
FUSE_HOLDER = """
import os, sys
mnt = sys.argv[1]
fds = [os.open(mnt, os.O_RDONLY | os.O_DIRECTORY)]
for leaf in (".SHMDinner", "plain", "." + "0" * 32 + "/.SHMD/x"):
    fds.append(os.open(os.path.join(mnt, leaf), os.O_RDONLY))
print("ready", flush=True)
sys.stdin.read()
"""


def demote_to(user):
    import pwd
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        return None

    def demote():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return demote


def start(argv, env=None, preexec_fn=None):
    """Starts a process that prints "ready" once it holds what it holds."""
    p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn)
    started.append(p)
    line = p.stdout.readline().strip()
    if line != "ready":
        p.wait(30)
        raise RuntimeError("%s did not start: %r %s" % (argv, line, p.stderr.read()))
    return p


def shmclean(root, *args):
    """Runs shmclean; (exit status, stdout) or None when it did not finish
    within LIMIT seconds. A process waiting for a FUSE server cannot be
    killed: it is left in `started`, to be ended once the server is."""
    env = dict(os.environ, SHMSHIM_DIR=root)
    env.pop("LD_PRELOAD", None)
    p = subprocess.Popen([CLEAN] + list(args), env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    started.append(p)
    try:
        out, _ = p.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        return None
    return p.returncode, out


def mounted(mnt):
    """Whether mnt is a mount point, from mountinfo: a stat of the frozen
    mount would wait."""
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == mnt for line in f)


def unmount(mnt):
    """Unmounts mnt, lazily if it is still busy; whether it is gone."""
    libc = ctypes.CDLL(None, use_errno=True)
    mnt_detach = 2
    if libc.umount2(os.fsencode(mnt), 0) != 0:
        libc.umount2(os.fsencode(mnt), mnt_detach)
    return not mounted(mnt)


def stalled_server_log(log):
    with open(log) as f:
        return f.read().strip() or "(the server was asked nothing)"


def run(base):
    root = os.path.join(base, "root")
    mnt = os.path.join(base, ".SHMDevil")
    freeze, log = os.path.join(base, "freeze"), os.path.join(base, "log")
    os.mkdir(root)
    os.chmod(root, 0o1777)
    os.mkdir(mnt)

    try:
        start([sys.executable, STALLFS, mnt, freeze, log])
    except RuntimeError as e:
        if any(why in str(e) for why in ("Operation not permitted", "Permission denied",
                                         "No such device")):
            skip_all("cannot mount a FUSE file system here: %s" % str(e).splitlines()[-1])
        raise
    env = dict(os.environ, LD_PRELOAD=LIB, SHMSHIM_DIR=root)
    real = start([TOOL, "hold", "/real"], env=env)
    fuse_user = start([sys.executable, "-c", FUSE_HOLDER, mnt], preexec_fn=demote_to("nobody"))
    ok(subprocess.run([TOOL, "create", "/dead"], env=env).returncode == 0,
       "an orphan /dead beside /real, held by a process; another process (as nobody if "
       "there is one) holds a directory and three files on a FUSE mount")

    open(freeze, "w").close()
    probe = subprocess.Popen([sys.executable, "-c", "import os, sys; os.stat(sys.argv[1])",
                              os.path.join(mnt, "plain")], stderr=subprocess.DEVNULL)
    started.append(probe)
    try:
        probe.wait(2)
        stalled = False
    except subprocess.TimeoutExpired:
        stalled = True
    ok(stalled, "the FUSE server no longer answers: a stat of a file on it does not return")

    began = time.monotonic()
    r = shmclean(root, "-l", "--json")
    took = time.monotonic() - began
    ok(r is not None and r[0] == 0,
       "shmclean -l finishes within %d s (took %.1f s)" % (LIMIT, took),
       None if r else "requests left unanswered:\n" + stalled_server_log(log))
    entries = {e["name"]: e for e in json.loads(r[1])["entries"]} if r else {}
    e = entries.get("/real", {})
    ok(e.get("state") == "in-use" and [u["pid"] for u in e["users"]] == [real.pid],
       "... and lists /real as in use by its holder, and by nobody else", e)
    e = entries.get("/dead", {})
    ok(e.get("state") == "orphan" and e["users"] == [], "... and /dead as an orphan", e)
    ok(all(u["pid"] != fuse_user.pid for e in entries.values() for u in e.get("users", [])),
       "... and the holder of the FUSE files is no object's user")

    r = shmclean(root, "--older-than", "0") if r else None
    ok(r is not None and r[0] == 0 and "removed shm /dead" in r[1] and "/real" not in r[1],
       "shmclean --older-than 0 (cleaning, which checks each object again) finishes too, "
       "removes the orphan and keeps /real", r[1] if r else "did not finish")
    ok(sorted(os.listdir(root)) == [".SHMDreal"] if r else False, "... only /real is left")

    # The frozen mount itself in the root, named like an object.
    r = shmclean(base, "-l", "--json")
    ok(r is not None and r[0] == 0,
       "shmclean -l of a root that holds the frozen mount point (.SHMDevil) finishes",
       None if r else "requests left unanswered:\n" + stalled_server_log(log))
    entries = {e["name"]: e for e in json.loads(r[1])["entries"]} if r else {}
    e = entries.get("/evil", {})
    ok(e.get("state") == "foreign" and "another file system" in (e.get("note") or ""),
       "... and lists it as foreign, on another file system", e)
    r = shmclean(base, "--force", "--older-than", "0") if r else None
    ok(r is not None and r[0] == 0 and mounted(mnt),
       "cleaning that root finishes too, and leaves the mount alone")


# shmget, shmat and shmctl(IPC_RMID) through the library; prints the errno.
SYSV_CALL = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
what, n = sys.argv[1], int(sys.argv[2], 0)
if what == "make":
    r = libc.shmget(n, 4096, 0o1600)
elif what == "attach":
    r = -1 if libc.shmat(n, None, 0) in (None, ctypes.c_void_p(-1).value) else 0
else:
    r = libc.shmget(n, 4096, 0o1600)
print(ctypes.get_errno() if r == -1 else 0, r, flush=True)
"""


def sysv_call(root, what, n):
    """(errno, result) of a System V call in a fresh process under the
    library; None when it did not finish within LIMIT seconds."""
    env = dict(os.environ, LD_PRELOAD=LIB, SHMSHIM_DIR=root, SHMSHIM_SYSV="files")
    p = subprocess.Popen([sys.executable, "-c", SYSV_CALL, what, str(n)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    started.append(p)
    try:
        out, _ = p.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        return None
    return tuple(int(x) for x in out.split())


def run_sysv(base):
    root = os.path.join(base, "sysv")
    lock, seg = os.path.join(root, ".SHVL00005656"), os.path.join(root, ".SHVD4245")
    os.mkdir(root)
    os.chmod(root, 0o1777)
    r = sysv_call(root, "make", 0x5656)
    ok(r is not None and r[0] == 0 and r[1] > 0, "a segment of key 0x5656 is made, and left", r)
    for mnt in (lock, seg):
        os.mkdir(mnt)
        start([sys.executable, STALLFS, mnt, mnt + ".freeze", mnt + ".log"])
        open(mnt + ".freeze", "w").close()
    r = sysv_call(root, "make", 0x5656 + 1)
    ok(r is not None and r[0] == 0, "another key is made beside the frozen mounts", r)
    r = sysv_call(root, "attach", 4245)
    ok(r is not None and r[0] == errno.EINVAL,
       "shmat(4245) of the frozen mount at .SHVD4245: EINVAL at once", r)
    r = shmclean(root, "--older-than", "0")
    ok(r is not None and r[0] == 0 and r[1].count("removed sysv key 0x0000565") == 2,
       "shmclean --older-than 0 finishes and removes both orphan segments, the one whose "
       "key's lock is a frozen mount too", r[1] if r else "requests left unanswered:\n" +
       stalled_server_log(lock + ".log") + stalled_server_log(seg + ".log"))
    r = sysv_call(root, "make", 0x5656)
    ok(r is not None and r[0] == errno.EINVAL,
       "shmget(IPC_CREAT) of the key whose lock is the frozen mount: EINVAL at once", r)
    ok(mounted(lock) and mounted(seg), "... and both mounts are left alone")


def main():
    global LIB, TOOL, CLEAN
    if os.getuid() != 0:
        skip_all("needs root to mount a FUSE file system")
    if not os.path.exists("/dev/fuse"):
        skip_all("/dev/fuse is missing (no FUSE in this kernel or container)")
    for path in (LIB, TOOL, CLEAN):
        if not os.path.exists(path):
            skip_all("%s is not built" % path)
    LIB, TOOL, CLEAN = public_copies(LIB, TOOL, CLEAN)
    base = tempfile.mkdtemp(prefix="shmshim-fuse.")
    os.chmod(base, 0o755)
    try:
        run(base)
        run_sysv(base)
    finally:
        # The server first (it was started first): its end aborts the
        # connection, and every request still waiting fails at once, so
        # that the rest can be ended.
        for p in started:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait(30)
        mounts = [os.path.join(base, leaf) for leaf in
                  (".SHMDevil", "sysv/.SHVL00005656", "sysv/.SHVD4245")]
        # From mountinfo, not a stat: the dead mounts answer ENOTCONN.
        left = [m for m in mounts if mounted(m) and not unmount(m)]
        if not left:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print("# could not unmount %s; left them" % " ".join(left))
    return done()


sys.exit(main())

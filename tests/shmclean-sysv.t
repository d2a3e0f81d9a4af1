#!/usr/bin/python3
"""shmclean and System V segments kept as files (SHMSHIM_SYSV=files): real
processes attach to segments under the preload, and shmclean lists them as
ipcs -m would (key, id, size, owner, mode, attachments, age), in text and
JSON; removes the orphans after the age limit with their key links, never
one in use; removes stale key links and lock files; leaves alone what is
not a segment, follows no planted link, and as another user in a sticky
root removes nothing of root's."""
import contextlib
import errno
import fcntl
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip, done, public_copies, end_started, as_user  # noqa: E402

LIB = os.path.join(BUILD, "libshmshim.so")
CLEAN = os.path.join(BUILD, "shmclean")
FAKE_NOW = os.path.join(BUILD, "tests", "fake_now.so")
started = []  # holders this test started, ended by PID
ANY_AGE = ("--older-than", "0")

# A program that makes (IPC_CREAT) a segment of key, size and mode, and
# attaches to it: it prints the id, then "ready", and keeps it attached
# until its stdin closes (with "wait"), or exits at once.
HOLDER = r'''
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
key, size, mode = int(sys.argv[1], 0), int(sys.argv[2]), int(sys.argv[3], 8)
sid = libc.shmget(key, size, 0o1000 | mode)
if sid < 0:
    sys.exit("shmget: errno %d" % ctypes.get_errno())
p = libc.shmat(sid, None, 0)
if p is None or p == ctypes.c_void_p(-1).value:
    sys.exit("shmat: errno %d" % ctypes.get_errno())
ctypes.memset(p, 0x5a, size)
print(sid)
print("ready", flush=True)
if sys.argv[4:] == ["wait"]:
    sys.stdin.read()
'''

# Looks up a key without IPC_CREAT: prints the id, or -errno.
LOOKUP = r'''
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
sid = libc.shmget(int(sys.argv[1], 0), 0, 0)
print(sid if sid >= 0 else -ctypes.get_errno())
'''


def env_for(root):
    return dict(os.environ, LD_PRELOAD=LIB, SHMSHIM_DIR=root, SHMSHIM_SYSV="files")


def holder(root, key, size=4096, mode="600", user=None):
    """Starts a process attached to a new segment; returns (process, id)."""
    p = subprocess.Popen([sys.executable, "-c", HOLDER, hex(key), str(size), mode, "wait"],
                         env=env_for(root), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True, preexec_fn=as_user(user), cwd="/")
    started.append(p)
    sid = p.stdout.readline().strip()
    if p.stdout.readline().strip() != "ready":
        raise RuntimeError("holder of key %#x did not start" % key)
    return p, int(sid)


def release(p):
    p.stdin.close()
    p.wait(30)


def orphan(root, key, size=4096, mode="600", user=None):
    """A segment whose maker attached and exited: returns its id."""
    r = subprocess.run([sys.executable, "-c", HOLDER, hex(key), str(size), mode],
                       env=env_for(root), capture_output=True, text=True,
                       preexec_fn=as_user(user), cwd="/", timeout=60)
    if r.returncode != 0:
        raise RuntimeError("maker of key %#x failed: %s" % (key, r.stderr))
    return int(r.stdout.split()[0])


def lookup(root, key):
    """What shmget(key, 0, 0) says under the shim: an id, or -errno."""
    r = subprocess.run([sys.executable, "-c", LOOKUP, hex(key)], env=env_for(root),
                       capture_output=True, text=True, timeout=60)
    return int(r.stdout.strip() or "0")


def shmclean(root, *args, user=None, now=None):
    """Runs shmclean on root; with now, its clock says that time."""
    env = dict(os.environ, SHMSHIM_DIR=root)
    env.pop("LD_PRELOAD", None)
    if now is not None:
        env.update(LD_PRELOAD=FAKE_NOW, FAKE_NOW="%d" % now)
    return subprocess.run([CLEAN] + list(args), env=env, preexec_fn=as_user(user),
                          capture_output=True, text=True, timeout=120, cwd="/")


def entries(root, user=None):
    """The -l --json entries, by path."""
    r = shmclean(root, "-l", "--json", user=user)
    return {e["path"]: e for e in json.loads(r.stdout)["entries"]}


def seg(root, sid):
    return os.path.join(root, ".SHVD%d" % sid)


def link(root, key):
    return os.path.join(root, ".SHVK%08x" % key)


def lock(root, key):
    return os.path.join(root, ".SHVL%08x" % key)


def exists(path):
    return os.path.lexists(path)


def ctime_of(path):
    return int(os.lstat(path).st_ctime)


def empty(root):
    shmclean(root, *ANY_AGE, "-q")
    left = os.listdir(root)
    for leaf in left:  # what the test planted and shmclean leaves
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(root, leaf))
    return left


def test_listed(root):
    key = 0x5e7a1
    h, sid = holder(root, key, 10000, "640")
    st = os.stat(seg(root, sid))
    es = entries(root)
    e = es.get(seg(root, sid), {})
    ok(e.get("type") == "sysv" and e.get("kind") == "sysv" and e.get("name") is None and
       e.get("key") == "0x0005e7a1" and e.get("id") == sid,
       "JSON: a segment is type and kind sysv, with its key in hex and its id", e)
    ok(e.get("size") == 10000 and e.get("uid") == os.getuid() and
       e.get("owner") == pwd.getpwuid(os.getuid()).pw_name and e.get("mode") == "0640" and
       e.get("hashed") is False,
       "JSON: its size is the segment's (without the header), its owner and mode the file's", e)
    ok(e.get("state") == "in-use" and [u["pid"] for u in e.get("users", [])] == [h.pid] and
       e["users"][0]["comm"] == "python3",
       "JSON: attached by a live process, it is in-use, with that process's PID and command", e)
    ok(isinstance(e.get("age_seconds"), int) and 0 <= e["age_seconds"] < 120 and
       e.get("ctime") is not None and st.st_size == 65536 + 10000,
       "JSON: its age, from the file's ctime", e)
    k = es.get(link(root, key), {})
    ok(k.get("type") == "sysv-key" and k.get("kind") == "sysv" and k.get("key") == "0x0005e7a1"
       and k.get("id") == sid and k.get("state") == "in-use" and k.get("note") is None,
       "JSON: its key's link is type sysv-key, names its id, and has the segment's state", k)
    r = shmclean(root, "-l")
    row = [line for line in r.stdout.splitlines() if " id %d" % sid in line]
    want = ("in-use   sysv            10000 %-10s 0640" % pwd.getpwuid(os.getuid()).pw_name)
    ok(r.returncode == 0 and len(row) == 1 and row[0].startswith(want) and
       row[0].endswith("  key 0x0005e7a1 id %d  %d(python3)" % (sid, h.pid)),
       "the table: state, type sysv, size, owner, mode, then key, id and PID(command)",
       r.stdout)
    ok(any(line.startswith("in-use   sysv-key") and
           line.endswith("key 0x0005e7a1 -> %d" % sid) for line in r.stdout.splitlines()),
       "... and a row for its key's link", r.stdout)

    r = shmclean(root, *ANY_AGE, "--force", "-v")
    ok(r.returncode == 0 and exists(seg(root, sid)) and exists(link(root, key)) and
       "kept sysv key 0x0005e7a1 id %d (in-use, 10000 bytes)" % sid in r.stdout and
       "kept sysv-key key 0x0005e7a1 -> %d (in-use, its segment is kept)" % sid in r.stdout,
       "a segment in use is kept, with its link, whatever its age, even with --force",
       r.stdout + r.stderr)
    release(h)
    e = entries(root).get(seg(root, sid), {})
    ok(e.get("state") == "orphan" and e.get("users") == [],
       "once its holder exits, the segment is an orphan", e)

    changed = ctime_of(seg(root, sid))
    r = shmclean(root, "-v")
    ok(r.returncode == 0 and exists(seg(root, sid)) and exists(link(root, key)) and
       "kept sysv key 0x0005e7a1 id %d (orphan, 10000 bytes, changed in the last 60 s)" % sid
       in r.stdout, "a plain run keeps it while it is new", r.stdout + r.stderr)
    r = shmclean(root, now=changed + 59)
    ok(r.returncode == 0 and exists(seg(root, sid)) and exists(link(root, key)),
       "... and 59 s after its last change (its detach), still", r.stdout + r.stderr)
    r = shmclean(root, "-n", now=changed + 60)
    ok(r.returncode == 0 and exists(seg(root, sid)) and exists(link(root, key)) and
       "would remove sysv key 0x0005e7a1 id %d (orphan, 10000 bytes)\n" % sid in r.stdout and
       "would remove sysv-key key 0x0005e7a1 -> %d (orphan, with its segment)\n" % sid
       in r.stdout, "-n says it would remove both, and removes nothing", r.stdout + r.stderr)
    r = shmclean(root, "--json", now=changed + 60)
    doc = json.loads(r.stdout)
    acts = {e["path"]: (e["action"], e["note"]) for e in doc["entries"]}
    ok(r.returncode == 0 and acts.get(seg(root, sid)) == ("removed", None) and
       acts.get(link(root, key)) == ("removed", "with its segment") and
       doc["summary"]["removed"] == 2,
       "60 s after it, it is removed, and its key's link with it (--json)", acts)
    ok(not exists(seg(root, sid)) and not exists(link(root, key)) and
       not exists(lock(root, key)) and os.listdir(root) == [],
       "... the file, the link and no lock file left", os.listdir(root))
    ok(lookup(root, key) == -errno.ENOENT,
       "... and shmget of its key without IPC_CREAT finds nothing (ENOENT)")


def test_private_and_text(root):
    sid = orphan(root, 0, 5000, "644")
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and r.stdout ==
       "removed sysv key 0x00000000 id %d (orphan, 5000 bytes)\nsummary: removed 1, kept 0\n"
       % sid and os.listdir(root) == [],
       "a private segment (IPC_PRIVATE) has key 0x00000000 and no link; removed, one line",
       r.stdout + r.stderr)


def test_stale_links(root):
    """A key's link whose segment is missing, or whose segment has another
    key, is stale: listed so, and removed after the age limit, under the
    key's lock, as shmget would remove it. Its lock file too."""
    gone_key, other_key, live_key = 0x11, 0x22, 0x33
    sid = orphan(root, gone_key)
    os.unlink(seg(root, sid))
    h, live = holder(root, live_key)
    os.symlink(str(live), link(root, other_key))
    open(lock(root, gone_key), "w").close()
    es = entries(root)
    a, b = es.get(link(root, gone_key), {}), es.get(link(root, other_key), {})
    ok(a.get("state") == "stale" and a.get("note") == "names no segment" and a.get("id") == sid,
       "a link whose segment was removed is stale", a)
    ok(b.get("state") == "stale" and b.get("note") == "its segment has another key",
       "a link that names a segment of another key is stale", b)
    ok(es.get(lock(root, gone_key), {}).get("state") == "stale" and
       es[lock(root, gone_key)]["type"] == "lock" and es[lock(root, gone_key)]["kind"] == "sysv",
       "a key's lock file that nobody holds is a stale lock of kind sysv",
       es.get(lock(root, gone_key)))
    # Made over a few seconds when the machine is busy: kept until the
    # first is 60 s old, all gone once the last is.
    times = [ctime_of(link(root, gone_key)), ctime_of(link(root, other_key)),
             ctime_of(lock(root, gone_key))]
    r = shmclean(root, now=min(times) + 59)
    ok(r.returncode == 0 and exists(link(root, gone_key)) and exists(link(root, other_key)) and
       exists(lock(root, gone_key)), "a plain run keeps them while they are new",
       r.stdout + r.stderr)
    r = shmclean(root, now=max(times) + 60)
    ok(r.returncode == 0 and not exists(link(root, gone_key)) and
       not exists(link(root, other_key)) and not exists(lock(root, gone_key)) and
       "removed sysv-key key 0x00000011 -> %d (stale, names no segment)" % sid in r.stdout and
       "removed sysv-lock key 0x00000011 (stale)" in r.stdout,
       "60 s after their last change, they are removed", r.stdout + r.stderr)
    ok(exists(seg(root, live)) and exists(link(root, live_key)) and lookup(root, live_key) == live,
       "... and the segment they named, in use, is left with its own link")
    release(h)
    empty(root)


def test_held_lock(root):
    key = 0x44
    fd = os.open(lock(root, key), os.O_RDONLY | os.O_CREAT, 0o444)
    fcntl.flock(fd, fcntl.LOCK_EX)
    e = entries(root).get(lock(root, key), {})
    ok(e.get("state") == "held", "a key's lock file held by a live process is held", e)
    shmclean(root, *ANY_AGE)
    ok(exists(lock(root, key)), "... and is not removed")
    os.close(fd)
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and "removed sysv-lock key 0x00000044 (stale)" in r.stdout and
       os.listdir(root) == [], "once let go, it is stale and removed", r.stdout + r.stderr)


def test_foreign(root):
    """What is not a segment is foreign and never touched, even with
    --force; a planted link is read, never followed."""
    victim = tempfile.NamedTemporaryFile(dir=os.path.dirname(root), delete=False)
    victim.write(b"victim")
    victim.close()
    planted = [seg(root, 77), seg(root, 78), seg(root, 79), link(root, 0xbeef),
               link(root, 0xcafe)]
    try:
        os.symlink(victim.name, planted[0])         # a segment's name: a link
        with open(planted[1], "wb") as f:            # a file with no header
            f.write(b"\0" * 70000)
        os.mkfifo(planted[2])                        # a FIFO
        os.symlink(victim.name, planted[3])         # a key link to a file outside
        os.symlink("77", planted[4])                 # a key link to the link above
        es = entries(root)
        ok([es.get(p, {}).get("state") for p in planted[:3]] == ["foreign"] * 3 and
           es[planted[0]]["note"] == "a symbolic link" and es[planted[2]]["note"] == "a FIFO" and
           es[planted[1]]["note"] == "the segment's file has no valid header",
           "a link, a file without a valid header and a FIFO at segments' names are foreign",
           [es.get(p) for p in planted[:3]])
        ok(es.get(planted[3], {}).get("state") == "stale" and
           es[planted[3]]["note"] == "its text is no segment id" and
           es.get(planted[4], {}).get("note") == "names a file that is no segment",
           "a key link to a file outside is stale: its text is no id (it is not followed)",
           [es.get(p) for p in planted[3:]])
        sid = orphan(root, 0x99)
        os.link(seg(root, sid), os.path.join(root, "hardlink"))
        planted += [seg(root, sid), os.path.join(root, "hardlink")]
        e = entries(root).get(seg(root, sid), {})
        ok(e.get("state") == "foreign" and e.get("note") ==
           "more than one link (a hard link to a file elsewhere?)",
           "a segment's file with a second link is foreign", e)
        r = shmclean(root, *ANY_AGE, "--force")
        ok(r.returncode == 0 and all(exists(p) for p in planted[:3] + planted[5:]) and
           not exists(planted[3]) and not exists(planted[4]),
           "shmclean --force leaves the foreign files, and removes the stale links themselves",
           r.stdout + r.stderr)
        ok(open(victim.name, "rb").read() == b"victim" and os.path.isfile(victim.name),
           "... the file a planted link pointed to is intact")
    finally:
        os.unlink(victim.name)
        for p in planted:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)


def test_leased(root):
    """shmclean waits for nobody: a segment whose file another process
    holds a lease on (an open of it waits for that process) is listed at
    once, without its header, and kept."""
    sid = orphan(root, 0x88, 4096)
    old = signal.signal(signal.SIGIO, signal.SIG_IGN)  # the lease's break
    fd = os.open(seg(root, sid), os.O_RDONLY)
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
        start = time.monotonic()
        r = shmclean(root, "-l", "--json")
        took = time.monotonic() - start
        e = {e["path"]: e for e in json.loads(r.stdout)["entries"]}.get(seg(root, sid), {})
        ok(r.returncode == 0 and took < 5 and e.get("note") == "its header could not be read" and
           e.get("state") != "foreign",
           "a segment leased by another process is listed at once (not after the 10 s an "
           "open would wait), without its header", (took, e))
        r = shmclean(root, *ANY_AGE, "--force")
        ok(r.returncode == 0 and exists(seg(root, sid)) and time.monotonic() - start < 10,
           "... and kept", r.stdout + r.stderr)
    finally:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        os.close(fd)
        signal.signal(signal.SIGIO, old)


def test_other_user(root):
    """As nobody in a sticky root: root's segments and stale links are
    listed (a segment nobody cannot read by its link's key, and its size
    from the file), but not removed; nobody's own are."""
    if os.getuid() != 0:
        skip(5, "needs root to run shmclean as nobody")
        return
    key, stale_key = 0x55, 0x66
    sid = orphan(root, key, 3000, "600")
    gone = orphan(root, stale_key)
    os.unlink(seg(root, gone))
    es = entries(root, user="nobody")
    e = es.get(seg(root, sid), {})
    ok(e.get("key") == "0x00000055" and e.get("id") == sid and e.get("size") == 3000 and
       e.get("state") in ("orphan", "unknown"),
       "as nobody, root's segment of mode 0600 is listed, its key told by its link", e)
    r = shmclean(root, *ANY_AGE, "--force", user="nobody")
    ok(r.returncode == 0 and exists(seg(root, sid)) and exists(link(root, key)) and
       exists(link(root, stale_key)) and
       r.stdout.endswith("summary: removed 0, kept 3 (3 of other users)\n"),
       "shmclean --force as nobody removes none of root's: segment, link or stale link",
       r.stdout + r.stderr)
    mine = orphan(root, 0x77, 100, "600", user="nobody")
    e = entries(root, user="nobody").get(seg(root, mine), {})
    ok(e.get("state") == "orphan" and e.get("uid") == pwd.getpwnam("nobody").pw_uid,
       "nobody's own orphan is an orphan to nobody (a lease tells, without /proc)", e)
    r = shmclean(root, *ANY_AGE, user="nobody")
    ok(r.returncode == 0 and not exists(seg(root, mine)) and not exists(link(root, 0x77)),
       "... and shmclean as nobody removes it and its link", r.stdout + r.stderr)
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and os.listdir(root) == [], "root's are removed by root",
       r.stdout + r.stderr)


def main():
    global LIB, CLEAN, FAKE_NOW
    for path in (LIB, CLEAN, FAKE_NOW):
        if not os.path.exists(path):
            print("1..0 # SKIP %s is not built" % path)
            return 0
    LIB, CLEAN, FAKE_NOW = public_copies(LIB, CLEAN, FAKE_NOW)
    root = tempfile.mkdtemp(prefix="shmshim-test.")
    os.chmod(root, 0o1777)
    try:
        for test in (test_listed, test_private_and_text, test_stale_links, test_held_lock,
                     test_foreign, test_leased, test_other_user):
            test(root)
            left = empty(root)
            ok(left == [], "nothing left after %s" % test.__name__, left)
    finally:
        end_started(started)
        shutil.rmtree(root, ignore_errors=True)
    return done()


sys.exit(main())

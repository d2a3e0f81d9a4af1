#!/usr/bin/python3
"""shmclean against real holders: processes started under the shim that keep
objects open, mapped, or locked, and that die."""
import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import pwd
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip, skip_all, done, public_copies, end_started, as_user  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(BUILD, "libshmshim.so")
TOOL = os.path.join(BUILD, "tests", "shm_tool")
CLEAN = os.path.join(BUILD, "shmclean")
FAKE_NOW = os.path.join(BUILD, "tests", "fake_now.so")
started = []  # holders this test started, ended by PID
# A plain run keeps what changed in the last 60 s: a test whose point is
# a removal, not the age, says "whatever its age".
ANY_AGE = ("--older-than", "0")


def env_for(root):
    return dict(os.environ, LD_PRELOAD=LIB, SHMSHIM_DIR=root)


def tool(root, *args, user=None):
    """Runs shm_tool to completion."""
    return subprocess.run([TOOL] + list(args), env=env_for(root), preexec_fn=as_user(user),
                          capture_output=True, text=True, timeout=60)


def holder(root, *args, user=None):
    """Starts shm_tool holding something; returns once it is ready."""
    p = subprocess.Popen([TOOL] + list(args), env=env_for(root), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, preexec_fn=as_user(user))
    started.append(p)
    line = p.stdout.readline().strip()
    if line != "ready":
        raise RuntimeError("holder %s did not start: %r" % (args, line))
    return p


def release(p):
    p.stdin.close()
    p.wait(30)


def kill(p):
    p.send_signal(signal.SIGKILL)
    p.wait(30)


def shmclean(root, *args, user=None, now=None):
    """Runs shmclean on root; with now, its clock says that time (seconds
    since the epoch)."""
    env = dict(os.environ, SHMSHIM_DIR=root)
    env.pop("LD_PRELOAD", None)
    if now is not None:
        env.update(LD_PRELOAD=FAKE_NOW, FAKE_NOW="%d" % now)
    return subprocess.run([CLEAN] + list(args), env=env, preexec_fn=as_user(user),
                          capture_output=True, text=True, timeout=120)


def listing(root, user=None):
    r = shmclean(root, "-l", "--json", user=user)
    doc = json.loads(r.stdout)
    return {(e["type"], e["name"]): e for e in doc["entries"] if e["name"]}, doc


def obj(root, name, user=None):
    return listing(root, user)[0].get(("object", name))


def test_usage(root):
    r = shmclean(root, "--help")
    ok(r.returncode == 0 and "--older-than" in r.stdout, "--help prints the options, exit 0")
    r = shmclean(root, "--version")
    ok(r.returncode == 0 and r.stdout.startswith("shmclean (shmshim) "), "--version, exit 0")
    r = shmclean(root, "--bogus")
    ok(r.returncode == 2 and "--help" in r.stderr, "an unknown option: exit 2 and a hint")
    r = shmclean(root, "--older-than", "soon")
    ok(r.returncode == 2 and "duration" in r.stderr, "a malformed duration: exit 2")
    r = shmclean(root, "-r")
    ok(r.returncode == 2, "-r without names: exit 2")
    r = shmclean(root, "--dir", root + "/missing", "-l")
    ok(r.returncode == 1 and "No such file" in r.stderr, "a missing root: exit 1 with the reason")
    r = shmclean(root, "-r", "/missing")
    ok(r.returncode == 1 and "/missing: No such file" in r.stderr,
       "-r of a missing object: exit 1 with the reason")


def test_holders(root):
    h = holder(root, "hold", "/held", "8192")
    m = holder(root, "map", "/mapped")
    ok(tool(root, "create", "/dead", "100").returncode == 0, "a creator makes /dead and exits")
    entries, doc = listing(root)
    e = entries.get(("object", "/held"), {})
    ok(e.get("state") == "in-use" and [u["pid"] for u in e["users"]] == [h.pid] and
       e["users"][0]["comm"] == "shm_tool",
       "an object held open is in-use, with the holder's PID and command", e)
    e = entries.get(("object", "/mapped"), {})
    ok(e.get("state") == "in-use" and [u["pid"] for u in e["users"]] == [m.pid],
       "an object only mapped (descriptor closed) is in-use, with its PID", e)
    e = entries.get(("object", "/dead"), {})
    ok(e.get("state") == "orphan" and e["users"] == [], "a dead creator's object is an orphan", e)

    # --json, field by field, for the held object.
    e = entries.get(("object", "/held"), {})
    st = os.lstat(os.path.join(root, ".SHMDheld"))
    when = datetime.datetime.strptime(e.get("mtime", ""), "%Y-%m-%dT%H:%M:%SZ")
    ok(doc["root"] == root and e["type"] == "object" and e["kind"] == "shm" and
       e["path"] == os.path.join(root, ".SHMDheld") and e["hashed"] is False,
       "JSON: root, type, kind, path, hashed")
    ok(e["size"] == 8192 and e["uid"] == os.getuid() and e["owner"] == "root" and
       e["mode"] == "%04o" % (st.st_mode & 0o7777),
       "JSON: size in bytes, uid, owner, mode", e)
    ok(abs(when.replace(tzinfo=datetime.timezone.utc).timestamp() - st.st_mtime) < 1 and
       isinstance(e["age_seconds"], int) and 0 <= e["age_seconds"] < 120,
       "JSON: mtime as ISO 8601 UTC, age in seconds", e)
    ok(("lock", "/held") not in entries and not os.path.exists(os.path.join(root, ".SHMLheld")),
       "a live object has no lock file: lock files live only during a call")
    r = subprocess.run([sys.executable, "-m", "json.tool"], input=shmclean(root, "-l", "--json").stdout,
                       capture_output=True, text=True)
    ok(r.returncode == 0, "python3 -m json.tool accepts the document")

    r = shmclean(root, "-l")
    ok(r.returncode == 0 and "%d(shm_tool)" % h.pid in r.stdout and "/dead" in r.stdout,
       "the table lists users as PID(command)")
    r = shmclean(root, *ANY_AGE, "-n")
    ok(r.returncode == 0 and "would remove shm /dead" in r.stdout and
       os.path.exists(os.path.join(root, ".SHMDdead")),
       "--dry-run says what it would remove and removes nothing", r.stdout)
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and "removed shm /dead" in r.stdout and "/held" not in r.stdout and
       "/mapped" not in r.stdout, "shmclean removes the orphan, one line, and nothing in use",
       r.stdout + r.stderr)
    ok(not os.path.exists(os.path.join(root, ".SHMDdead")) and
       not os.path.exists(os.path.join(root, ".SHMLdead")), "... its file and lock are gone")
    ok(os.path.exists(os.path.join(root, ".SHMDheld")) and
       os.path.exists(os.path.join(root, ".SHMDmapped")), "... the objects in use are kept")
    r = shmclean(root, "-v")
    ok(r.returncode == 0 and "kept shm /held (in-use" in r.stdout, "-v also says what is kept")
    release(h)
    release(m)
    ok(obj(root, "/held")["state"] == "orphan", "once its holder exits, /held is an orphan")
    r = shmclean(root, *ANY_AGE, "-q")
    ok(r.returncode == 0 and r.stdout == "" and os.listdir(root) == [],
       "-q removes silently; the root is empty")


def test_stale_lock(root):
    h = holder(root, "lock", "/locked")
    entries, _ = listing(root)
    ok(entries.get(("lock", "/locked"), {}).get("state") == "held", "a lock being held is held")
    r = shmclean(root, *ANY_AGE)
    ok(os.path.exists(os.path.join(root, ".SHMLlocked")), "... and is not removed")
    kill(h)
    entries, _ = listing(root)
    ok(entries.get(("lock", "/locked"), {}).get("state") == "stale",
       "after its holder is SIGKILLed, it is stale")
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and "removed shm-lock /locked" in r.stdout and os.listdir(root) == [],
       "shmclean removes the stale lock", r.stdout + r.stderr)


def test_long_names(root):
    name = "/" + "L" * 253
    ok(tool(root, "create", name).returncode == 0, "create an orphan with a 253-character name")
    digest = hashlib.md5(name[1:].encode()).hexdigest()
    e = obj(root, name) or {}
    ok(e.get("hashed") is True and e["state"] == "orphan" and
       e["path"] == os.path.join(root, "." + digest, ".SHMD", name[1:]),
       "it is listed by its POSIX name, decoded from <root>/.<md5>/.SHMD/", e)
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and os.listdir(root) == [], "shmclean removes it and its directories",
       os.listdir(root))
    os.makedirs(os.path.join(root, "." + "0" * 32, ".SHMD"))
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and os.listdir(root) == [], "an empty hash directory left behind is removed")


def ctime_of(root, leaf):
    """When root/leaf last changed, in whole seconds, as shmclean sees it."""
    return int(os.lstat(os.path.join(root, leaf)).st_ctime)


def test_older_than(root):
    """The age is the time since the last change (ctime), which nobody can
    set back: an mtime set into the past does not make a new object old."""
    tool(root, "create", "/old")
    path = os.path.join(root, ".SHMDold")
    two_hours_ago = time.time() - 7200
    os.utime(path, (two_hours_ago, two_hours_ago))
    r = shmclean(root, "--older-than", "1h")
    ok(r.returncode == 0 and os.path.exists(path),
       "--older-than 1h keeps an orphan whose mtime was set 2 hours back: it changed just now",
       r.stdout + r.stderr)
    changed = ctime_of(root, ".SHMDold")
    r = shmclean(root, "--older-than", "1h", now=changed + 3599)
    ok(r.returncode == 0 and os.path.exists(path), "... and 3599 s after that change, still",
       r.stdout + r.stderr)
    r = shmclean(root, "--older-than", "1h", now=changed + 3600)
    ok(r.returncode == 0 and not os.path.exists(path) and "removed shm /old" in r.stdout,
       "... 3600 s after it, --older-than 1h removes it: an age of the limit is old enough",
       r.stdout + r.stderr)
    tool(root, "create", "/new")
    shmclean(root, "--older-than", "10m")
    ok(os.path.exists(os.path.join(root, ".SHMDnew")), "--older-than 10m keeps a new one")
    shmclean(root, *ANY_AGE, "-q")
    ok(os.listdir(root) == [], "--older-than 0 removes it")


def test_grace(root):
    """A plain run keeps an orphan that changed in the last 60 s: nobody has
    it open now, but its producer may have closed it a moment ago for a
    consumer that has yet to open it."""
    ok(tool(root, "create", "/fresh", "100").returncode == 0, "a creator makes /fresh and exits")
    path = os.path.join(root, ".SHMDfresh")
    r = shmclean(root)
    ok(r.returncode == 0 and os.path.exists(path) and
       r.stdout == "summary: removed 0, kept 1 (1 changed in the last 60 s)\n",
       "a plain run keeps an orphan made a moment ago, and its summary says so",
       r.stdout + r.stderr)
    r = shmclean(root, "-v")
    ok(r.returncode == 0 and
       "kept shm /fresh (orphan, 100 bytes, changed in the last 60 s)\n" in r.stdout,
       "-v says it was kept for its age", r.stdout)
    r = shmclean(root, "-n")
    ok(r.returncode == 0 and "would remove shm" not in r.stdout and
       r.stdout.endswith("summary: would remove 0, would keep 1 (1 changed in the last 60 s)\n"),
       "-n does not offer to remove it", r.stdout)
    r = shmclean(root, "-q")
    ok(r.returncode == 0 and r.stdout == "" and os.path.exists(path),
       "-q keeps it too, and says nothing", r.stdout)
    changed = ctime_of(root, ".SHMDfresh")
    r = shmclean(root, now=changed + 59)
    ok(r.returncode == 0 and os.path.exists(path),
       "59 s after its last change, a plain run still keeps it", r.stdout)
    r = shmclean(root, now=changed + 60)
    ok(r.returncode == 0 and not os.path.exists(path) and
       r.stdout == "removed shm /fresh (orphan, 100 bytes)\nsummary: removed 1, kept 0\n",
       "60 s after it, a plain run removes it", r.stdout + r.stderr)

    tool(root, "create", "/fresh")
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and not os.path.exists(path) and "removed shm /fresh" in r.stdout,
       "--older-than 0 removes an orphan made a moment ago", r.stdout + r.stderr)
    tool(root, "create", "/fresh")
    r = shmclean(root, *ANY_AGE, now=ctime_of(root, ".SHMDfresh"))
    ok(r.returncode == 0 and not os.path.exists(path),
       "... even in the second it changed: an age of 0 is not below a limit of 0", r.stdout)
    tool(root, "create", "/fresh")
    changed = ctime_of(root, ".SHMDfresh")
    r = shmclean(root, now=changed - 30)
    ok(r.returncode == 0 and os.path.exists(path),
       "a change dated after shmclean's now (a clock set back) counts as now: kept", r.stdout)
    r = shmclean(root, *ANY_AGE, now=changed - 30)
    ok(r.returncode == 0 and not os.path.exists(path),
       "... and --older-than 0 removes it all the same", r.stdout)


def test_grace_everything(root):
    """The age limit holds for all that a plain run removes: a stale lock
    file and temporary file, an empty and an unfinished hash directory
    (a creator may have just made it). Not for -r: the user named it."""
    kill(holder(root, "lock", "/locked"))
    made = [os.path.join(root, leaf) for leaf in
            (".SHMLlocked", ".SEMTtemp", "." + "a" * 32 + "~", "." + "0" * 32)]
    open(made[1], "w").close()
    os.mkdir(made[2])
    os.makedirs(os.path.join(made[3], ".SHMD"))
    r = shmclean(root)
    ok(r.returncode == 0 and all(os.path.exists(p) for p in made) and
       r.stdout == "summary: removed 0, kept 4 (4 changed in the last 60 s)\n",
       "a plain run keeps a new stale lock, stale temporary, unfinished and empty directory",
       r.stdout + r.stderr)
    changed = max(int(os.lstat(p).st_ctime) for p in made)
    r = shmclean(root, now=changed + 60)
    ok(r.returncode == 0 and os.listdir(root) == [] and
       r.stdout.endswith("summary: removed 4, kept 0\n"),
       "... and removes them 60 s after their last change", r.stdout + r.stderr)
    tool(root, "create", "/named")
    r = shmclean(root, "-r", "/named")
    ok(r.returncode == 0 and os.listdir(root) == [] and r.stdout == "removed /named\n",
       "-r removes an object made a moment ago: the age does not apply", r.stdout + r.stderr)


def test_summary(root):
    """The closing line counts what was removed and what was kept, and why."""
    h = holder(root, "hold", "/busy", "100")
    tool(root, "create", "/old", "100")
    time.sleep(1.1)  # /new changes at least a second after /old
    tool(root, "create", "/new", "100")
    os.mkfifo(os.path.join(root, ".SHMDfifo"))
    now = ctime_of(root, ".SHMDold") + 60
    r = shmclean(root, now=now)
    ok(r.returncode == 0 and r.stdout == "removed shm /old (orphan, 100 bytes)\n"
       "summary: removed 1, kept 3 (1 in use, 1 changed in the last 60 s, 1 foreign)\n",
       "one line for the removal, then the summary: removed 1, kept 3, in use, new and foreign",
       r.stdout + r.stderr)
    r = shmclean(root, "-n", "--older-than", "10m", now=now)
    ok(r.returncode == 0 and r.stdout ==
       "summary: would remove 0, would keep 3 (1 in use, 1 changed in the last 10 min, "
       "1 foreign)\n", "-n --older-than 10m: the summary names that limit", r.stdout)
    release(h)
    os.unlink(os.path.join(root, ".SHMDfifo"))
    shmclean(root, *ANY_AGE, "-q")
    r = shmclean(root)
    ok(r.returncode == 0 and r.stdout == "no objects in %s\n" % root and r.stderr == "",
       "a plain run over an empty root says so in one line", r.stdout + r.stderr)
    r = shmclean(root, "-l")
    ok(r.returncode == 0 and r.stdout == "no objects in %s\n" % root,
       "... and so does -l, instead of a table with no rows", r.stdout)


def test_json_cleans(root):
    """--json changes what is printed, never what is done: without -l or -n
    it cleans as a plain run does, and reports what it did."""
    tool(root, "create", "/j", "100")
    path = os.path.join(root, ".SHMDj")
    changed = ctime_of(root, ".SHMDj")
    kept = {"removed": 0, "failed": 0, "kept": 1, "in_use": 0, "changed_recently": 1,
            "unknown": 0, "foreign": 0, "other_users": 0, "other": 0}
    r = shmclean(root, "--json")
    doc = json.loads(r.stdout)
    e = (doc["entries"] or [{}])[0]
    ok(r.returncode == 0 and os.path.exists(path) and doc["mode"] == "clean" and
       doc["older_than_seconds"] == 60 and e.get("action") == "kept" and
       e.get("note") == "changed in the last 60 s" and doc.get("summary") == kept,
       "--json alone keeps an orphan made a moment ago, as a plain run does, and says why", doc)
    r = shmclean(root, "-l", "--json", now=changed + 3600)
    doc = json.loads(r.stdout)
    e = (doc["entries"] or [{}])[0]
    ok(r.returncode == 0 and os.path.exists(path) and doc["mode"] == "list" and
       "action" not in e and "summary" not in doc,
       "-l --json removes nothing, however old", doc)
    r = shmclean(root, "-n", "--json", now=changed + 3600)
    doc = json.loads(r.stdout)
    e = (doc["entries"] or [{}])[0]
    ok(r.returncode == 0 and os.path.exists(path) and doc["mode"] == "dry-run" and
       e.get("action") == "would remove" and doc["summary"].get("would_remove") == 1,
       "-n --json removes nothing, and says what a run would", doc)
    r = shmclean(root, "--json", now=changed + 60)
    doc = json.loads(r.stdout)
    e = (doc["entries"] or [{}])[0]
    ok(r.returncode == 0 and not os.path.exists(path) and e.get("action") == "removed" and
       doc["summary"] == dict(kept, removed=1, kept=0, changed_recently=0),
       "--json without -l removes an orphan unchanged for 60 s, and reports the removal", doc)
    r = shmclean(root, "--json")
    doc = json.loads(r.stdout)
    ok(r.returncode == 0 and doc["entries"] == [] and doc["summary"]["kept"] == 0,
       "--json over an empty root: the document, with no entries, and nothing else", r.stdout)


def test_recreated(root):
    a = holder(root, "hold", "/re")
    tool(root, "create", "/tmp-unused")
    # Another process unlinks /re and makes a new, unused one.
    os.environ.setdefault("SHMSHIM_DIR", root)
    r = subprocess.run([sys.executable, "-c", "import ctypes,os; l=ctypes.CDLL(None);"
                        "assert l.shm_unlink(b'/re')==0; fd=l.shm_open(b'/re', 66, 0o600);"
                        "assert fd>=0"], env=env_for(root))
    e = obj(root, "/re") or {}
    ok(r.returncode == 0 and e.get("state") == "orphan" and e["users"] == [],
       "an object unlinked and made again: the old one's holder does not protect the new one", e)
    b = holder(root, "open", "/re")
    e = obj(root, "/re") or {}
    ok(e.get("state") == "in-use" and [u["pid"] for u in e["users"]] == [b.pid],
       "... and a holder of the new one is its only user", e)
    release(a)
    release(b)
    shmclean(root, *ANY_AGE, "-q")
    ok(os.listdir(root) == [], "clean up")


def test_foreign(root):
    victim = tempfile.NamedTemporaryFile(dir=os.path.dirname(root), delete=False)
    victim.write(b"victim")
    victim.close()
    try:
        os.symlink(victim.name, os.path.join(root, ".SHMDlink"))
        # A directory named like a semaphore (one named like a shared
        # memory object is a program's /dev/shm directory: devshm-programs.t).
        os.mkdir(os.path.join(root, ".SEMDdir"))
        os.mkfifo(os.path.join(root, ".SHMDfifo"))
        entries, _ = listing(root)
        states = {n: entries.get(("object", n), {}) for n in ("/link", "/dir", "/fifo")}
        ok(all(e.get("state") == "foreign" for e in states.values()) and
           states["/link"]["note"] == "a symbolic link" and states["/dir"]["note"] == "a directory",
           "a symlink, a directory named like a semaphore and a FIFO are foreign", states)
        r = shmclean(root, *ANY_AGE, "-f")
        ok(r.returncode == 0 and os.path.islink(os.path.join(root, ".SHMDlink")) and
           os.path.isdir(os.path.join(root, ".SEMDdir")) and
           open(victim.name, "rb").read() == b"victim",
           "... they are not removed, even with --force, and the link's target is untouched")
    finally:
        os.unlink(victim.name)
        for leaf in (".SHMDlink", ".SHMDfifo"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(root, leaf))
        with contextlib.suppress(FileNotFoundError):
            os.rmdir(os.path.join(root, ".SEMDdir"))


def test_remove_named(root):
    h = holder(root, "hold", "/busy")
    tool(root, "create", "/idle")
    r = shmclean(root, "-r", "/busy", "/idle")
    ok(r.returncode == 0 and "removed /busy" in r.stdout and "removed /idle" in r.stdout and
       "warning: /busy was in use" in r.stderr and "/idle was" not in r.stderr,
       "-r removes named objects, however new, and warns only for one in use",
       r.stdout + r.stderr)
    ok(os.listdir(root) == [], "... both files and locks are gone")
    release(h)


def test_semaphores(root):
    h = holder(root, "sem", "/sema")
    entries, _ = listing(root)
    e = entries.get(("object", "/sema"), {})
    ok(e.get("kind") == "sem" and e["state"] == "in-use" and
       [u["pid"] for u in e["users"]] == [h.pid] and e["path"] == os.path.join(root, ".SEMDsema"),
       "a semaphore held by a process is listed as kind sem, in-use, with its PID", e)
    release(h)
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and "removed sem /sema" in r.stdout and os.listdir(root) == [],
       "once its holder is gone, shmclean removes it with its lock", r.stdout)
    release(holder(root, "sem", "/semb"))
    r = shmclean(root, "-r", "--sem", "/semb")
    ok(r.returncode == 0 and "removed /semb" in r.stdout and os.listdir(root) == [],
       "-r --sem removes a named semaphore", r.stdout + r.stderr)


def test_other_users(root):
    if os.getuid() != 0:
        skip(12, "needs root to run processes as nobody and daemon")
        return
    ok(tool(root, "create", "/theirs", user="daemon").returncode == 0,
       "daemon creates /theirs")
    # Readable to nobody through its group, not to daemon, its owner: so
    # daemon can take no lease, and cannot look into nobody's process.
    path = os.path.join(root, ".SHMDtheirs")
    os.chown(path, -1, pwd.getpwnam("nobody").pw_gid)
    os.chmod(path, 0o040)
    h = holder(root, "open", "/theirs", user="nobody")
    e = obj(root, "/theirs", user="daemon") or {}
    ok(e.get("state") == "unknown",
       "nobody holds it; shmclean as daemon can neither lease it nor see into nobody's process: unknown", e)
    shmclean(root, *ANY_AGE, user="daemon")
    ok(os.path.exists(path), "... and keeps it without --force")
    r = shmclean(root, "--force", user="daemon")
    ok(r.returncode == 0 and os.path.exists(path) and "changed in the last 60 s" in r.stdout,
       "... and with --force, while it is new: the age limit holds with --force too", r.stdout)
    r = shmclean(root, *ANY_AGE, "--force", user="daemon")
    ok(r.returncode == 0 and not os.path.exists(path), "... --force removes it",
       r.stdout + r.stderr)
    release(h)
    tool(root, "create", "/theirs", user="daemon")
    h = holder(root, "open", "/theirs", user="nobody")
    e = obj(root, "/theirs", user="daemon") or {}
    ok(e.get("state") == "in-use",
       "with leases, the owner learns that it is in use all the same, without /proc", e)
    shmclean(root, *ANY_AGE, "--force", user="daemon")
    ok(os.path.exists(os.path.join(root, ".SHMDtheirs")), "... and even --force keeps it")
    release(h)
    shmclean(root, *ANY_AGE, "-q")

    # An orphan of daemon's that daemon may write but not read (0200): it
    # cannot lease it, nor look into root's processes, so cannot tell.
    ok(tool(root, "create", "/w0200", user="daemon").returncode == 0, "daemon creates /w0200")
    path = os.path.join(root, ".SHMDw0200")
    os.chmod(path, 0o200)
    e = obj(root, "/w0200", user="daemon") or {}
    ok(e.get("state") == "unknown", "mode 0200, seen by daemon: unknown", e)
    r = shmclean(root, *ANY_AGE, "-n", user="daemon")
    ok(r.returncode == 0 and "/w0200" not in r.stdout,
       "shmclean -n as daemon does not offer to remove it", r.stdout)
    r = shmclean(root, *ANY_AGE, user="daemon")
    ok(r.returncode == 0 and os.path.exists(path) and "/w0200" not in r.stdout,
       "a plain run as daemon keeps it, and says nothing of it", r.stdout)
    r = shmclean(root, *ANY_AGE, "-v", user="daemon")
    ok("kept shm /w0200 (unknown" in r.stdout, "-v says it was kept as unknown", r.stdout)
    r = shmclean(root, *ANY_AGE, "-n", "--force", user="daemon")
    ok("would remove shm /w0200 (unknown" in r.stdout, "with --force, -n offers to", r.stdout)
    r = shmclean(root, *ANY_AGE, "--force", user="daemon")
    ok(r.returncode == 0 and not os.path.exists(path), "... and --force removes it",
       r.stdout + r.stderr)


def entry_at(root, path):
    doc = json.loads(shmclean(root, "-l", "--json").stdout)
    return next((e for e in doc["entries"] if e["path"] == path), {})


def test_temporaries(root):
    """Semaphore temporaries (.SEMT, made only without O_TMPFILE) and
    directories left unfinished (.<md5>~...) by killed processes."""
    stale = os.path.join(root, ".SEMTfoo")
    open(stale, "w").close()
    e = entry_at(root, stale)
    ok(e.get("type") == "temporary" and e.get("name") == "/foo" and e.get("state") == "stale",
       "a temporary file whose lock file is free is listed as a stale temporary of /foo", e)
    held, lock = os.path.join(root, ".SEMTbar"), os.path.join(root, ".SEMLbar")
    open(held, "w").close()
    lock_fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o444)
    fcntl.flock(lock_fd, fcntl.LOCK_EX)
    ok(entry_at(root, held).get("state") == "held",
       "one whose name's lock file is held is held")
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and not os.path.exists(stale) and os.path.exists(held),
       "shmclean removes the stale one and keeps the held one", r.stdout + r.stderr)
    os.close(lock_fd)
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and os.listdir(root) == [],
       "once the holder is gone, the temporary and its lock file go", os.listdir(root))

    name = "T" * 252
    digest = hashlib.md5(name.encode()).hexdigest()
    hashdir = os.path.join(root, "." + digest)
    os.makedirs(os.path.join(hashdir, ".SEML"))
    temp = os.path.join(hashdir, ".SEMT")
    open(temp, "w").close()
    lock_fd = os.open(os.path.join(hashdir, ".SEML", name), os.O_RDONLY | os.O_CREAT, 0o444)
    fcntl.flock(lock_fd, fcntl.LOCK_EX)
    e = entry_at(root, temp)
    ok(e.get("type") == "temporary" and e.get("state") == "held" and e.get("hashed") is True,
       "a long name's .SEMT is held while a lock file in its .SEML is", e)
    shmclean(root, *ANY_AGE)
    ok(os.path.exists(temp), "... and kept")
    os.close(lock_fd)
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and os.listdir(root) == [],
       "... then removed, with its directories", os.listdir(root))

    empty1 = os.path.join(root, "." + digest + "~")
    empty2 = os.path.join(root, "." + digest + "~.SHMD")
    full = os.path.join(root, "." + "1" * 32 + "~")
    for d in (empty1, empty2, full):
        os.mkdir(d)
    open(os.path.join(full, "planted"), "w").close()
    e = entry_at(root, empty1)
    ok(e.get("type") == "directory" and e.get("state") == "empty",
       "an unfinished directory (.<md5>~) is listed as empty", e)
    ok(entry_at(root, full).get("state") == "foreign",
       "one with something in it is foreign")
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and sorted(os.listdir(root)) == ["." + "1" * 32 + "~"],
       "shmclean removes the empty unfinished directories, and keeps the other",
       os.listdir(root))
    shutil.rmtree(full)


def test_other_users_dirs(root):
    """Long names in directories of another user; hard links."""
    if os.getuid() != 0:
        skip(6, "needs root to make files of nobody and daemon")
        return
    name = "/" + "D" * 252
    ok(tool(root, "create", name, user="daemon").returncode == 0,
       "daemon creates a long-name object (daemon's hash directories)")
    e = obj(root, name) or {}
    ok(e.get("state") == "orphan", "root's shmclean lists it as an orphan", e)
    r = shmclean(root, *ANY_AGE)
    ok(r.returncode == 0 and os.listdir(root) == [],
       "... and removes it with its directories, though it cannot make a lock file "
       "in daemon's directories", r.stdout + r.stderr + str(os.listdir(root)))

    nobody, daemon = pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("daemon").pw_uid
    digest = hashlib.md5(name[1:].encode()).hexdigest()
    data_dir = os.path.join(root, "." + digest, ".SHMD")
    os.makedirs(data_dir)
    for d in (data_dir, os.path.dirname(data_dir)):
        os.chown(d, nobody, -1)
        os.chmod(d, 0o1777)
    victim = os.path.join(data_dir, name[1:])
    with open(victim, "w") as f:
        f.write("daemon's")
    os.chown(victim, daemon, -1)
    e = obj(root, name) or {}
    ok(e.get("state") == "foreign" and "another user" in (e.get("note") or ""),
       "daemon's object in nobody's directories is foreign", e)
    r = shmclean(root, *ANY_AGE, "--force")
    ok(os.path.exists(victim), "... and even --force keeps it", r.stdout + r.stderr)
    shutil.rmtree(os.path.dirname(data_dir))

    target = os.path.join(root, "target")
    with open(target, "w") as f:
        f.write("not ours")
    os.link(target, os.path.join(root, ".SHMDlinked"))
    e = obj(root, "/linked") or {}
    shmclean(root, *ANY_AGE, "--force")
    ok(e.get("state") == "foreign" and os.path.exists(os.path.join(root, ".SHMDlinked")),
       "a hard link is foreign and kept, even with --force", e)
    for f in (target, os.path.join(root, ".SHMDlinked")):
        os.unlink(f)


def test_failure_exit(root):
    if os.getuid() != 0:
        skip(1, "needs root to make a directory daemon cannot write")
        return
    ro = os.path.join(root, "ro")
    os.mkdir(ro, 0o755)
    path = os.path.join(ro, ".SHMDstuck")
    open(path, "w").close()
    os.chown(path, pwd.getpwnam("daemon").pw_uid, -1)
    r = shmclean(ro, *ANY_AGE, user="daemon")
    ok(r.returncode == 1 and "cannot remove" in r.stderr and os.path.exists(path),
       "a removal that fails (directory not writable): exit 1 and the reason", r.stderr)
    os.unlink(path)
    os.rmdir(ro)


def race_rounds(root, command, rounds=40):
    """Runs command of shm_tool on /zrace while shmclean cleans the root.

    Each round leaves 150 orphans that sort before /zrace, so that shmclean
    spends a while removing them between its scan and its turn at /zrace;
    meanwhile shm_tool works on /zrace. If shmclean trusted its scan, it
    would remove /zrace under shm_tool's open descriptor ("LOST")."""
    outcomes = {"kept": 0, "enoent": 0, "LOST": 0}
    for i in range(rounds):
        for n in range(150):
            open(os.path.join(root, ".SHMDfill%03d" % n), "w").close()
        tool(root, "create", "/zrace")
        cleaner = subprocess.Popen([CLEAN, "-q", *ANY_AGE], env=dict(os.environ, SHMSHIM_DIR=root))
        started.append(cleaner)
        time.sleep(random.random() * 0.03)
        r = tool(root, command, "/zrace")
        cleaner.wait(60)
        words = r.stdout.split()
        outcome = words[-1] if words and words[-1] in outcomes else "LOST"
        outcomes[outcome] += 1
        if command == "recreate" and words[:1] == ["enoent"]:
            outcomes["enoent"] += 1
        shmclean(root, *ANY_AGE, "-q")
    print("# %s outcomes: %s" % (command, outcomes))
    return outcomes


def test_race(root):
    """Opens racing a clean: an object opened while shmclean runs survives."""
    outcomes = race_rounds(root, "race")
    ok(outcomes["LOST"] == 0, "40 rounds of open against clean: no object removed while open",
       outcomes)
    ok(outcomes["kept"] > 0, "... and the open won some rounds, so the race was run", outcomes)
    ok(os.listdir(root) == [], "nothing left after the race", os.listdir(root))


def test_recreate_race(root):
    """An object unlinked and made anew while shmclean runs: the new one survives."""
    outcomes = race_rounds(root, "recreate")
    ok(outcomes["LOST"] == 0 and outcomes["kept"] == 40,
       "40 rounds of unlink and create against clean: the new object is never removed",
       outcomes)
    print("# rounds where shmclean had removed the old one first: %d" % outcomes["enoent"])
    ok(os.listdir(root) == [], "nothing left after the race", os.listdir(root))


def strace_usable():
    """Whether strace is installed and may trace here (ptrace can be
    forbidden in a container)."""
    return shutil.which("strace") is not None and subprocess.run(
        ["strace", "-f", "-qq", "-o", os.devnull, "true"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def wait_for(what, cond, timeout=60):
    """Polls cond until it returns something true, and returns that. The
    time-out is only a safety net: raises TimeoutError naming what."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError("waited %d s for %s" % (timeout, what))
        time.sleep(0.005)


def locks_on(st):
    """The locks and leases /proc/locks lists on st's file, as tuples
    (class, state, type, pid): ("LEASE", "ACTIVE", "WRITE", 42)."""
    where = "%02x:%02x:%d" % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    found = []
    with open("/proc/locks") as f:
        for line in f:
            w = line.split()
            if len(w) >= 6 and w[1] != "->" and w[5] == where:
                found.append((w[1], w[2], w[3], int(w[4])))
    return found


def read_text(path):
    with open(path) as f:
        return f.read()


TRACE = ["-f", "-qq", "-y", "-e", "trace=flock,fcntl"]


def calibrate(root, data):
    """Runs shmclean on root, which holds the orphan whose data file is
    data, under strace. Returns which flock call (counted from 1) first
    locks that file, and which fcntl call then takes the removal's write
    lease on it (the scan's lease comes before any lock), so that
    strace's inject can stop shmclean exactly there; and what was seen, to
    show on failure."""
    fd, log = tempfile.mkstemp(prefix="shmshim-strace.")
    os.close(fd)
    env = env_for(root)
    env.pop("LD_PRELOAD")
    try:
        r = subprocess.run(["strace", "-o", log] + TRACE + [CLEAN, "-v", *ANY_AGE], env=env,
                           timeout=120, capture_output=True, text=True)
        text = read_text(log)
    finally:
        os.unlink(log)
    calls = re.findall(r"^\d+ +(flock|fcntl)\(\d+<([^>]*)>, ([^)]*)\)", text, re.M)
    detail = r.stdout + r.stderr + text
    counts = {"flock": 0, "fcntl": 0}
    lock_n = None
    for call, path, args in calls:
        counts[call] += 1
        if call == "flock" and path == data and lock_n is None and args.startswith("LOCK_EX"):
            lock_n = counts["flock"]
        if call == "fcntl" and path == data and lock_n and args == "F_SETLEASE, F_WRLCK":
            return lock_n, counts["fcntl"], detail
    return lock_n, None, detail


def traced_shmclean(root, inject, older_than="0"):
    """Starts shmclean -v --older-than older_than on root under strace
    with the given inject rule; returns the strace process and its log's
    path."""
    fd, log = tempfile.mkstemp(prefix="shmshim-strace.")
    os.close(fd)
    env = dict(env_for(root), SHMSHIM_LOCK_TIMEOUT_MS="60000")
    env.pop("LD_PRELOAD")
    p = subprocess.Popen(["strace", "-o", log, "-e", "inject=" + inject] + TRACE +
                         [CLEAN, "-v", "--older-than", older_than],
                         env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    started.append(p)
    return p, log


def stopped_pid(log):
    """The PID of shmclean once strace reports it stopped by the injected
    SIGSTOP, else None."""
    m = re.search(r"^(\d+) +--- stopped by SIGSTOP ---$", read_text(log), re.M)
    return int(m.group(1)) if m else None


def our_tracee(tracer, pid):
    """Whether pid is still the child of tracer (a strace this test started)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return ("PPid:\t%d\n" % tracer.pid) in f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False


def signal_tracee(tracer, pid, sig):
    if pid is not None and tracer.poll() is None and our_tracee(tracer, pid):
        os.kill(pid, sig)


def end_traced(tracer, pid, log):
    """Ends a traced shmclean that is still there (it may be stopped); its
    strace then reaps it and exits. Removes the log."""
    signal_tracee(tracer, pid, signal.SIGKILL)
    try:
        tracer.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        tracer.kill()
        tracer.communicate()
    os.unlink(log)


def test_create_dir_swapped(root):
    """The shim, not shmclean: root creates a long-name object; between the
    opening of its own .SHMD and the create in it, the directory is removed
    (another unlink tidying it) and nobody puts a .SHMD of its own in its
    place. strace stops the creator at that create; the test swaps the
    directory, then lets it go on. Its create then fails (the directory it
    opened is gone); it must look again, see nobody's directory, and make
    nothing there: EACCES."""
    if not strace_usable() or os.getuid() != 0:
        skip(3, "needs root, and strace that can trace here")
        return
    name = "/" + "R" * 252
    digest = hashlib.md5(name[1:].encode()).hexdigest()
    data_dir = os.path.join(root, "." + digest, ".SHMD")
    data = os.path.join(data_dir, name[1:])
    trace = ["strace", "-f", "-qq", "-y", "-e", "trace=openat"]
    fd, log = tempfile.mkstemp(prefix="shmshim-strace.")
    os.close(fd)
    try:
        # Calibration: which openat (counted from 1) is the create.
        tool(root, "create", name)
        os.unlink(data)
        subprocess.run(trace + ["-o", log, TOOL, "create", name], env=env_for(root),
                       timeout=60, capture_output=True)
        calls = re.findall(r"^\d+ +openat\((.*)$", read_text(log), re.M)
        n = next((i + 1 for i, c in enumerate(calls)
                  if ".SHMD>" in c and "O_CREAT" in c), None)
        os.unlink(data)
        # The injected SIGSTOP takes hold as the call returns: stop at the
        # one before, the opening of .SHMD.
        if not ok(n is not None and n > 1 and '".SHMD"' in calls[n - 2],
                  "calibration: the creator opens .SHMD at openat number %s, then creates" %
                  (n - 1 if n else None), calls):
            return
        n -= 1
        tracer = subprocess.Popen(trace + ["-o", log, "-e", "inject=openat:signal=SIGSTOP:when=%d" % n,
                                           TOOL, "create", name],
                                  env=env_for(root), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        started.append(tracer)
        pid = None
        try:
            pid = wait_for("the creator to stop before its create", lambda: stopped_pid(log))
            os.rmdir(data_dir)
            os.mkdir(data_dir)
            os.chown(data_dir, pwd.getpwnam("nobody").pw_uid, -1)
            os.chmod(data_dir, 0o1777)
            signal_tracee(tracer, pid, signal.SIGCONT)
            out, err = tracer.communicate(timeout=60)
        finally:
            signal_tracee(tracer, pid, signal.SIGKILL)
            if tracer.poll() is None:
                tracer.communicate(timeout=30)
        ok(tracer.returncode != 0 and "Permission denied" in err,
           "root's create, whose .SHMD was replaced by nobody's meanwhile, fails with EACCES",
           out + err)
        ok(os.listdir(data_dir) == [], "... and puts nothing in nobody's directory",
           os.listdir(data_dir))
    finally:
        os.unlink(log)
        shutil.rmtree(os.path.dirname(data_dir), ignore_errors=True)


def test_swapped_after_scan(root):
    """Between shmclean's scan and its looking at each object, the owner of
    a long name's hash directory replaces it with a symbolic link to
    somewhere else (which could be a FUSE mount that never answers).
    strace stops shmclean as it opens /proc, after the scan; the test swaps
    the directory; nothing shmclean opens afterwards may be in the link's
    target."""
    if not strace_usable():
        skip(2, "strace is not installed or cannot trace here")
        return
    name = "/" + "S" * 252
    hashdir = os.path.join(root, "." + hashlib.md5(name[1:].encode()).hexdigest())
    outside = tempfile.mkdtemp(prefix="shmshim-outside.")
    trace = ["strace", "-f", "-qq", "-y", "-e", "trace=openat,openat2"]
    env = env_for(root)
    env.pop("LD_PRELOAD")
    fd, log = tempfile.mkstemp(prefix="shmshim-strace.")
    os.close(fd)
    tracer, pid = None, None
    try:
        tool(root, "create", name)
        subprocess.run(trace + ["-o", log, CLEAN, "-l"], env=env, timeout=60,
                       capture_output=True)
        calls = re.findall(r"^\d+ +openat\((.*)$", read_text(log), re.M)
        n = next((i + 1 for i, c in enumerate(calls)
                  if c.startswith("AT_FDCWD") and ', "/proc",' in c), None)
        if not ok(n is not None, "calibration: shmclean opens /proc (after its scan) at openat %s"
                  % n, calls[:20]):
            return
        os.makedirs(os.path.join(outside, ".SHMD"))
        with open(os.path.join(outside, ".SHMD", name[1:]), "w") as f:
            f.write("elsewhere")
        tracer = subprocess.Popen(trace + ["-o", log, "-e", "inject=openat:signal=SIGSTOP:when=%d" % n,
                                           CLEAN, "-l"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        started.append(tracer)
        pid = wait_for("shmclean to stop after its scan", lambda: stopped_pid(log))
        os.rename(hashdir, hashdir + ".real")
        os.symlink(outside, hashdir)
        signal_tracee(tracer, pid, signal.SIGCONT)
        tracer.communicate(timeout=60)
        followed = re.findall(r"= \d+<(%s[^>]*)>" % re.escape(outside), read_text(log))
        ok(tracer.returncode == 0 and not followed,
           "shmclean, its hash directory swapped for a link after the scan, opens nothing "
           "in the link's target", followed)
    finally:
        if tracer is not None:
            signal_tracee(tracer, pid, signal.SIGKILL)
            if tracer.poll() is None:
                tracer.communicate(timeout=30)
        if os.path.islink(hashdir):
            os.unlink(hashdir)
        if os.path.isdir(hashdir + ".real"):
            os.rename(hashdir + ".real", hashdir)
        os.unlink(log)
        shutil.rmtree(outside, ignore_errors=True)
        shmclean(root, *ANY_AGE, "-q")


def opened_files(p):
    """(st_dev, st_ino) of every file process p has open."""
    found = set()
    fd_dir = "/proc/%d/fd" % p.pid
    for fd in os.listdir(fd_dir):
        with contextlib.suppress(OSError):
            st = os.stat(os.path.join(fd_dir, fd))
            found.add((st.st_dev, st.st_ino))
    return found


def test_open_under_lease(root):
    """An open while shmclean holds its write lease, before it asks whether
    the lease was broken: the opener waits and gets the object, which
    shmclean keeps. strace stops shmclean right after the lease is granted;
    only then does the opener open."""
    if not strace_usable():
        skip(4, "strace is not installed or cannot trace here")
        return
    data = os.path.join(root, ".SHMDx")
    tool(root, "create", "/x")
    _, lease_n, detail = calibrate(root, data)
    if not ok(lease_n is not None and not os.path.exists(data),
              "calibration: shmclean removes an orphan /x under strace, taking a lease on it",
              detail):
        shmclean(root, *ANY_AGE, "-q")
        return
    tool(root, "create", "/x")
    before = os.stat(data)
    opener = subprocess.Popen([TOOL, "open-on-cue", "/x"],
                              env=dict(env_for(root), SHMSHIM_LOCK_TIMEOUT_MS="60000"),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    started.append(opener)
    cleaner, log = traced_shmclean(root, "fcntl:signal=SIGSTOP:when=%d" % lease_n)
    pid = None
    try:
        pid = wait_for("shmclean to stop holding its lease", lambda: stopped_pid(log))
        held = locks_on(before)
        ok(("LEASE", "ACTIVE", "WRITE", pid) in held and ("FLOCK", "ADVISORY", "WRITE", pid) in held,
           "shmclean is stopped holding /x's lock and a write lease on it", held)
        opener.stdin.write("\n")
        opener.stdin.flush()
        wait_for("the open to break the lease",
                 lambda: any(lk[:2] == ("LEASE", "BREAKING") for lk in locks_on(before)))
        signal_tracee(cleaner, pid, signal.SIGCONT)
        out, err = cleaner.communicate(timeout=120)
        line = opener.stdout.readline().strip()
        ok(line == "ready" and (before.st_dev, before.st_ino) in opened_files(opener),
           "the opener waits for the lease and gets the object that was there, not ENOENT", line)
        after = os.stat(data) if os.path.exists(data) else None
        ok(cleaner.returncode == 0 and "kept shm /x (" in out and "in use now)" in out and
           after is not None and after.st_ino == before.st_ino,
           "shmclean finds its lease broken and keeps /x", out + err)
    except TimeoutError as e:
        ok(False, "the interleaving was forced", "%s\n%s" % (e, read_text(log)))
    finally:
        end_traced(cleaner, pid, log)
        release(opener)
    shmclean(root, *ANY_AGE, "-q")
    ok(os.listdir(root) == [], "nothing left", os.listdir(root))


def test_lock_unlinked(root):
    """shmclean waits for the object's lock while its holder removes the
    object and a new one is made at the name: having the old file's lock,
    shmclean sees it is no longer linked and looks again, and keeps the new
    object, which is in use. strace stops shmclean just before its first
    try at the old file's lock (and makes that try fail, as if held)."""
    if not strace_usable():
        skip(3, "strace is not installed or cannot trace here")
        return
    data = os.path.join(root, ".SHMDx")
    tool(root, "create", "/x")
    lock_n, _, detail = calibrate(root, data)
    if not ok(lock_n is not None and not os.path.exists(data),
              "calibration: shmclean removes an orphan /x under strace, locking it", detail):
        shmclean(root, *ANY_AGE, "-q")
        return
    tool(root, "create", "/x")
    old = os.stat(data)
    cleaner, log = traced_shmclean(root, "flock:error=EAGAIN:signal=SIGSTOP:when=%d" % lock_n)
    pid, locker, new_holder = None, None, None
    try:
        pid = wait_for("shmclean to stop before locking /x", lambda: stopped_pid(log))
        locker = holder(root, "flock", "/x")
        os.unlink(data)  # as the lock's holder (a shm_unlink) would
        new_holder = holder(root, "hold", "/x")
        new = os.stat(data)
        seen = len(read_text(log))
        waiting = re.compile(r"^%d +flock\(\d+<%s>\(deleted\), LOCK_EX\|LOCK_NB\) += -1 EAGAIN"
                             r" \([^()]*\)$" % (pid, re.escape(data)), re.M)
        signal_tracee(cleaner, pid, signal.SIGCONT)
        wait_for("shmclean to wait for the old file's lock",
                 lambda: waiting.search(read_text(log)[seen:]))
        release(locker)
        out, err = cleaner.communicate(timeout=120)
        after = os.stat(data) if os.path.exists(data) else None
        ok(cleaner.returncode == 0 and "kept shm /x (" in out and "in use now)" in out and
           after is not None and after.st_ino == new.st_ino and new.st_ino != old.st_ino,
           "shmclean, which locked the old file once it was unlinked, keeps the new /x in use",
           out + err)
    except TimeoutError as e:
        ok(False, "the interleaving was forced", "%s\n%s" % (e, read_text(log)))
    finally:
        end_traced(cleaner, pid, log)
        for p in (locker, new_holder):
            if p is not None:
                release(p)
    shmclean(root, *ANY_AGE, "-q")
    ok(os.listdir(root) == [], "nothing left", os.listdir(root))


def test_replaced_after_scan(root):
    """An orphan old enough at the scan, unlinked and made anew before
    shmclean takes its lock, as a producer handing a new object to a
    consumer would: the new one has just changed, and is kept; the age too
    is checked again under the lock. strace stops shmclean at its first
    try at the old file's lock (and makes that try fail, as if held)."""
    if not strace_usable():
        skip(3, "strace is not installed or cannot trace here")
        return
    data = os.path.join(root, ".SHMDx")
    tool(root, "create", "/x")
    lock_n, _, detail = calibrate(root, data)
    if not ok(lock_n is not None and not os.path.exists(data),
              "calibration: shmclean removes an orphan /x under strace, locking it", detail):
        shmclean(root, *ANY_AGE, "-q")
        return
    tool(root, "create", "/x")
    old = os.stat(data)
    time.sleep(1.1)  # /x is a second old when shmclean starts: due, with --older-than 1
    cleaner, log = traced_shmclean(root, "flock:error=EAGAIN:signal=SIGSTOP:when=%d" % lock_n,
                                   older_than="1")
    pid = None
    try:
        pid = wait_for("shmclean to stop before locking /x", lambda: stopped_pid(log))
        r = tool(root, "recreate", "/x")
        new = os.stat(data)
        ok(r.returncode == 0 and new.st_ino != old.st_ino,
           "meanwhile, /x is unlinked and made anew, and its maker exits", r.stdout + r.stderr)
        signal_tracee(cleaner, pid, signal.SIGCONT)
        out, err = cleaner.communicate(timeout=120)
        after = os.stat(data) if os.path.exists(data) else None
        ok(cleaner.returncode == 0 and "kept shm /x (orphan, 4096 bytes, changed in the last 1 s)"
           in out and after is not None and after.st_ino == new.st_ino,
           "shmclean, which found /x old at its scan, keeps the new /x: it changed just now",
           out + err)
    except TimeoutError as e:
        ok(False, "the interleaving was forced", "%s\n%s" % (e, read_text(log)))
    finally:
        end_traced(cleaner, pid, log)
    shmclean(root, *ANY_AGE, "-q")
    ok(os.listdir(root) == [], "nothing left", os.listdir(root))


def main():
    global LIB, TOOL, CLEAN, FAKE_NOW
    for path in (LIB, TOOL, CLEAN, FAKE_NOW):
        if not os.path.exists(path):
            print("1..0 # SKIP %s is not built" % path)
            return 0
    LIB, TOOL, CLEAN, FAKE_NOW = public_copies(LIB, TOOL, CLEAN, FAKE_NOW)
    root = tempfile.mkdtemp(prefix="shmshim-test.")
    os.chmod(root, 0o1777)
    try:
        for test in (test_usage, test_holders, test_stale_lock, test_long_names,
                     test_older_than, test_grace, test_grace_everything, test_summary,
                     test_json_cleans, test_recreated, test_foreign, test_remove_named,
                     test_semaphores, test_temporaries, test_other_users_dirs,
                     test_create_dir_swapped, test_swapped_after_scan,
                     test_other_users, test_failure_exit, test_race, test_recreate_race,
                     test_open_under_lease, test_lock_unlinked, test_replaced_after_scan):
            test(root)
    finally:
        end_started(started)
        shutil.rmtree(root, ignore_errors=True)
    return done()


sys.exit(main())

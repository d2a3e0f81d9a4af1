#!/usr/bin/python3
"""System V shared memory of real programs, where the kernel refuses it.

tests/nosysv runs a program under a seccomp filter that makes shmget,
shmat, shmdt and shmctl fail with ENOSYS, as Android's policy does. This
proves:

- the sandbox: natively a shmget there fails with ENOSYS, and works
  outside it;
- PostgreSQL 15, which keeps a small System V segment as the interlock
  between a data directory and its processes: in the sandbox initdb fails
  natively; under the shim (SHMSHIM_SYSV unset: the shim finds the kernel
  refusing and uses files) initdb works, the server starts, runs parallel
  queries, keeps its segment as <root>/.SHVD<id> with the key's link
  <root>/.SHVK<key>, and leaves none of them after a clean stop;
- the interlock itself, which rests on shm_nattch: after a kill -9 of the
  postmaster while a backend still runs, a new postmaster on the same data
  directory is refused ("pre-existing shared memory block ... is still in
  use"), and once the backend is gone it starts (it removes the old
  segment) and stops cleanly; the same happens natively with the kernel's
  segments, as a control that the test sees a refusal;
- PostgreSQL with shared_memory_type=sysv and dynamic_shared_memory_type=
  sysv under the shim in the sandbox: its main memory (about 150 MB) and
  the dynamic segments of parallel queries are files, the queries give the
  right answers and a clean stop leaves no file;
- Python's sysv_ipc between two processes in the sandbox: one creates a
  segment by key and writes, another attaches by key and reads the same
  bytes, number_attached counts both and then one, and after remove() the
  key is gone and so are the files;
- SHMSHIM_SYSV: unset and outside the sandbox, segments are the kernel's
  (in /proc/sysvipc/shm, no file); native in the sandbox, the shim does not
  step in (ENOSYS); files outside the sandbox, a segment is a file and not
  the kernel's."""
import ctypes
import importlib.util
import os
import pwd
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import (BUILD, ok, skip, skip_all, done, public_copies, end_started,  # noqa: E402
                    pg_bindir, PG_PARALLEL, as_user)

LIB = os.path.join(BUILD, "libshmshim.so")
NOSYSV = os.path.join(BUILD, "tests", "nosysv")
PY = sys.executable or "/usr/bin/python3"
SHV = (".SHVD", ".SHVK", ".SHVL")

# The number of tests of each part that may be skipped as a whole.
N_PG = 14          # PostgreSQL in the sandbox
N_INTERLOCK = 10   # the interlock, under the shim and natively (5 each)
N_SYSV_IPC = 7     # Python's sysv_ipc
N_PG_SYSV = 6      # PostgreSQL with all its shared memory System V


BIN = pg_bindir()
PARALLEL = PG_PARALLEL

# shmget and shmctl(IPC_RMID) through the C library, by ctypes: under the
# preload, the shim's.
#   get KEY SIZE   shmget(KEY, SIZE, IPC_CREAT | IPC_EXCL | 0600): "id N"
#   rm ID          shmctl(ID, IPC_RMID, NULL): "ok 0"
# A failure prints "error ENAME" and exits 1.
TOOL = r'''
import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.argtypes = (ctypes.c_int, ctypes.c_size_t, ctypes.c_int)
libc.shmctl.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
if sys.argv[1] == "get":
    r = libc.shmget(int(sys.argv[2], 0), int(sys.argv[3]), 0o1000 | 0o2000 | 0o600)
    what = "id"
else:
    r = libc.shmctl(int(sys.argv[2]), 0, None)
    what = "ok"
if r < 0:
    e = ctypes.get_errno()
    print("error", errno.errorcode.get(e, e))
    sys.exit(1)
print(what, r)
'''

# sysv_ipc: A creates a segment with key argv[1] and writes DATA, B attaches
# by key and reads; each waits for a line on standard input between steps.
SYSV_DATA = "bytes((i * 7 + 3) % 256 for i in range(10000))"
SYSV_A = r'''
import sys, sysv_ipc
DATA = %s
m = sysv_ipc.SharedMemory(int(sys.argv[1], 0), sysv_ipc.IPC_CREX, mode=0o600, size=len(DATA))
m.write(DATA)
print("created", m.id, m.number_attached, flush=True)
sys.stdin.readline()
m.detach()
print("detached", flush=True)
sys.stdin.read()
''' % SYSV_DATA
SYSV_B = r'''
import sys, sysv_ipc
DATA = %s
key = int(sys.argv[1], 0)
m = sysv_ipc.SharedMemory(key)
print("read", m.id, m.size, m.read() == DATA, m.number_attached, flush=True)
sys.stdin.readline()
print("after-detach", m.number_attached, flush=True)
sys.stdin.readline()
print("after-exit", m.number_attached, flush=True)
m.remove()
m.detach()
try:
    sysv_ipc.SharedMemory(key)
    print("still-there", flush=True)
except sysv_ipc.ExistentialError:
    print("gone", flush=True)
''' % SYSV_DATA
SYSV_NATIVE = r'''
import sys, sysv_ipc
try:
    sysv_ipc.SharedMemory(int(sys.argv[1], 0), sysv_ipc.IPC_CREX, size=4096)
    print("created")
except Exception as e:
    print("raised", type(e).__name__, getattr(e, "errno", None), e)
'''


def env_for(shim, root, sysv=None):
    """The environment of a program: with the shim preloaded or not,
    SHMSHIM_SYSV as given (None: unset)."""
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "SHMSHIM_DIR", "SHMSHIM_SYSV"):
        env.pop(k, None)
    if shim:
        env.update(LD_PRELOAD=LIB, SHMSHIM_DIR=root)
    if sysv is not None:
        env["SHMSHIM_SYSV"] = sysv
    return env


def sandboxed(cmd, sandbox):
    return ([NOSYSV] if sandbox else []) + list(cmd)


def tool(args, shim, root, sandbox, sysv=None):
    """Runs TOOL; returns (first word, number or error name, output)."""
    r = subprocess.run(sandboxed([PY, "-c", TOOL] + list(args), sandbox),
                       env=env_for(shim, root, sysv), capture_output=True, text=True, timeout=60)
    words = r.stdout.split()
    return (words[0] if words else None), (words[1] if len(words) > 1 else None), \
        r.stdout + r.stderr


def shv_files(root):
    return sorted(f for f in os.listdir(root) if f.startswith(SHV))


def kernel_segments():
    """The kernel's segments: {id: (key, nattch)}."""
    segs = {}
    with open("/proc/sysvipc/shm") as f:
        next(f)
        for line in f:
            w = line.split()
            segs[int(w[1])] = (int(w[0]), int(w[6]))
    return segs


def kernel_rm(shmid, key):
    """Removes the kernel's segment shmid if it is still the one with key."""
    if kernel_segments().get(shmid, (None,))[0] != key:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmctl.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
    libc.shmctl(shmid, 0, None)


def key_link(key):
    return ".SHVK%08x" % (key & 0xffffffff)


def link_text(root, key):
    """The text of key's link in root, or None."""
    try:
        return os.readlink(os.path.join(root, key_link(key)))
    except OSError:
        return None


def proc_stat(pid):
    """(state, ppid, start time) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    w = s[s.rindex(")") + 2:].split()
    return w[0], int(w[1]), int(w[19])


def sandboxed_with_shim(pid):
    """Whether a process has the seccomp filter and the shim mapped."""
    try:
        with open("/proc/%d/status" % pid) as f:
            filtered = re.search(r"^Seccomp:\s*2$", f.read(), re.M)
        with open("/proc/%d/maps" % pid) as f:
            loaded = any(line.rstrip().endswith("/libshmshim.so") for line in f)
    except OSError:
        return False
    return bool(filtered) and loaded


def children_of(ppid):
    """{pid: start time} of the processes whose parent is ppid."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[1] == ppid:
                kids[int(d)] = st[2]
    return kids


def alive(pid, start):
    """Whether pid is still that process (same start time) and not a zombie:
    a zombie has released its memory, and its attachments."""
    st = proc_stat(pid)
    return st is not None and st[2] == start and st[0] not in "ZX"


def kill_recorded(procs):
    """SIGKILLs the processes of procs ({pid: start time}) still alive, and
    waits up to 30 s for them to be gone; returns whether they are."""
    for pid, start in procs.items():
        if alive(pid, start):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if not any(alive(p, s) for p, s in procs.items()):
            return True
        time.sleep(0.05)
    return False


class Talk:
    """A child spoken to line by line, with time limits."""

    def __init__(self, cmd, env):
        self.p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.buf = b""

    def say(self, text=""):
        try:
            self.p.stdin.write(text.encode() + b"\n")
            self.p.stdin.flush()
        except OSError:
            pass

    def line(self, timeout=30):
        """The next line it prints, or "" at its end or after timeout."""
        fd = self.p.stdout.fileno()
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return ""
            chunk = os.read(fd, 4096)
            if not chunk:
                return ""
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def finish(self, timeout=30):
        """Closes its input and waits for it; returns its standard error."""
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return self.p.stderr.read().decode(errors="replace")


def as_postgres():
    as_user("postgres")()


class Server:
    """A private PostgreSQL server: initdb, pg_ctl or the postmaster itself,
    as the postgres user, in the sandbox or not, under the shim or not."""

    def __init__(self, work, root):
        self.work, self.root = work, root
        self.data = os.path.join(work, "data")
        self.sock = os.path.join(work, "sock")
        self.log = os.path.join(work, "sock", "server.log")
        self.opts = ["-c", "dynamic_shared_memory_type=posix", "-c", "listen_addresses=",
                     "-c", "unix_socket_directories=" + self.sock,
                     "-c", "max_worker_processes=8", "-c", "max_parallel_workers=4"]
        self.started = []    # postmasters started here (Popen)
        self.recorded = {}   # their children: {pid: start time}
        self.kernel = set()  # the kernel's segments of native runs: (id, key)

    def env(self, shim):
        env = env_for(shim, self.root)
        env.update(PGHOST=self.sock, PGUSER="postgres", PGDATABASE="postgres")
        return env

    def run(self, cmd, shim, sandbox, timeout=120):
        return subprocess.run(sandboxed(cmd, sandbox), env=self.env(shim), preexec_fn=as_postgres,
                              capture_output=True, text=True, timeout=timeout)

    def initdb(self, shim, sandbox):
        return self.run([BIN + "/initdb", "-D", self.data, "-A", "trust", "-U", "postgres"],
                        shim, sandbox, timeout=300)

    def pg_ctl_start(self, shim, sandbox, more=()):
        # One string for pg_ctl -o, which the shell splits: the empty
        # listen_addresses quoted (the other values have no spaces). A
        # later -c of a setting overrides an earlier one.
        opts = " ".join(o + "''" if o.endswith("=") else o for o in self.opts + list(more))
        return self.run([BIN + "/pg_ctl", "-D", self.data, "-l", self.log, "-o", opts,
                         "-w", "-t", "60", "start"], shim, sandbox)

    def pg_ctl_stop(self):
        return self.run([BIN + "/pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop"],
                        False, False)

    def postmaster(self, shim, sandbox, log):
        """Starts the postmaster itself, a child of this process (so that
        it is reaped here at once when it dies), its output into log."""
        with open(log, "w") as out:
            p = subprocess.Popen(sandboxed([BIN + "/postgres", "-D", self.data] + self.opts,
                                           sandbox),
                                 env=self.env(shim), preexec_fn=as_postgres,
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.started.append(p)
        return p

    def wait_ready(self, p, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end and p.poll() is None:
            if self.psql("SELECT 1").returncode == 0:
                return True
            time.sleep(0.2)
        return False

    def psql(self, sql, timeout=120):
        return subprocess.run([BIN + "/psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                               "-c", sql], env=self.env(False), capture_output=True, text=True,
                              timeout=timeout)

    def pidfile(self):
        """(postmaster PID, key, id) from postmaster.pid, or None."""
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                lines = f.read().splitlines()
            key, shmid = lines[6].split()
            return int(lines[0]), int(key), int(shmid)
        except (OSError, ValueError, IndexError):
            return None

    def cleanup(self):
        """Ends whatever this test started that still runs, by PID: the
        postmasters it started, their recorded children, a postmaster that
        pg_ctl started in this data directory; removes the kernel's
        segments of native runs."""
        for p in self.started:
            if p.poll() is None:
                p.send_signal(signal.SIGQUIT)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        kill_recorded(self.recorded)
        pf = self.pidfile()
        if pf:
            try:
                if os.readlink("/proc/%d/cwd" % pf[0]) == os.path.realpath(self.data):
                    os.kill(pf[0], signal.SIGQUIT)
                    for _ in range(100):
                        if proc_stat(pf[0]) is None or proc_stat(pf[0])[0] == "Z":
                            break
                        time.sleep(0.1)
            except OSError:
                pass
        for shmid, key in self.kernel:
            kernel_rm(shmid, key)


def part_sandbox(root):
    r = subprocess.run([NOSYSV], capture_output=True, text=True)
    ok(r.returncode == 2 and "usage: nosysv" in r.stderr,
       "nosysv without a program prints its usage and exits 2", r.returncode)
    word, val, out = tool(["get", "0", "4096"], False, root, True)
    ok(word == "error" and val == "ENOSYS",
       "in the nosysv sandbox, a native shmget(IPC_PRIVATE, 4096, 0600) fails with ENOSYS", out)
    word, val, out = tool(["get", "0", "4096"], False, root, False)
    made = word == "id" and int(val) in kernel_segments()
    ok(made, "outside it, the same shmget makes a kernel segment", out)
    if made:
        kernel_rm(int(val), 0)
    ok(not made or int(val) not in kernel_segments(), "which IPC_RMID removes")


def part_settings(root):
    key = 0x5e000000 | (os.getpid() & 0xffffff)
    while any(k == key for k, _ in kernel_segments().values()):
        key += 1
    word, val, out = tool(["get", hex(key), "8192"], True, root, False)
    made = word == "id" and kernel_segments().get(int(val), (None,))[0] == key
    ok(made and shv_files(root) == [],
       "SHMSHIM_SYSV unset, outside the sandbox: under the shim, shmget makes a kernel segment "
       "(in /proc/sysvipc/shm with its key) and no file in the root",
       "%s; root: %s" % (out, shv_files(root)))
    if word == "id":
        kernel_rm(int(val), key)
    ok(key not in [k for k, _ in kernel_segments().values()], "it is removed natively")

    word, val, out = tool(["get", hex(key), "8192"], True, root, True, sysv="native")
    ok(word == "error" and val == "ENOSYS" and shv_files(root) == [],
       "SHMSHIM_SYSV=native in the sandbox: shmget fails with ENOSYS, the shim does not step in",
       "%s; root: %s" % (out, shv_files(root)))

    word, val, out = tool(["get", hex(key), "8192"], True, root, False, sysv="files")
    shmid = int(val) if word == "id" else -1
    ok(word == "id" and os.path.isfile(os.path.join(root, ".SHVD%d" % shmid)) and
       link_text(root, key) == str(shmid),
       "SHMSHIM_SYSV=files outside the sandbox: the segment is <root>/.SHVD<id>, and "
       "<root>/%s names its id" % key_link(key), "%s; root: %s" % (out, shv_files(root)))
    ok(key not in [k for k, _ in kernel_segments().values()],
       "and the kernel has no segment with its key")
    if shmid >= 0:
        word, val, out = tool(["rm", str(shmid)], True, root, False, sysv="files")
    ok(word == "ok" and shv_files(root) == [],
       "IPC_RMID (SHMSHIM_SYSV=files) removes its files", "%s; root: %s" % (out, shv_files(root)))


def part_sysv_ipc(root):
    key = 0x5f000000 | (os.getpid() & 0xffffff)
    r = subprocess.run([NOSYSV, PY, "-c", SYSV_NATIVE, hex(key)], env=env_for(False, root),
                       capture_output=True, text=True, timeout=60)
    ok(r.stdout.startswith("raised OSError 38") and "Function not implemented" in r.stdout,
       "sysv_ipc in the sandbox, natively: creating a segment raises OSError "
       "(Function not implemented)", r.stdout + r.stderr)

    env = env_for(True, root)
    a = Talk([NOSYSV, PY, "-c", SYSV_A, hex(key)], env)
    b = None
    try:
        created = a.line().split()
        ok(created[:1] == ["created"] and created[2:] == ["1"] and
           os.path.isfile(os.path.join(root, ".SHVD%s" % created[1])),
           "under the shim in the sandbox, process A creates a 10000-byte segment by key, "
           "writes it and stays attached (a file in the root)",
           "%s; root: %s; %s" % (created, shv_files(root), a.p.poll() is not None and a.finish()))
        b = Talk([NOSYSV, PY, "-c", SYSV_B, hex(key)], env)
        got = b.line().split()
        ok(got[:1] == ["read"] and got[1:2] == created[1:2] and got[2:4] == ["10000", "True"],
           "process B, started later, attaches by key and reads back the same 10000 bytes",
           "%s; %s" % (got, b.p.poll() is not None and b.finish()))
        ok(got[4:] == ["2"], "number_attached is 2 while both are attached (%s)" % got[4:])
        a.say("detach")
        detached = a.line()
        b.say()
        after = b.line().split()
        a_err = a.finish()
        b.say()
        after_exit = b.line().split()
        ok(detached == "detached" and after == ["after-detach", "1"] and
           after_exit == ["after-exit", "1"] and a.p.returncode == 0,
           "it is 1 after A detaches, and after A exits", "%s %s %s %s" %
           (detached, after, after_exit, a_err))
        gone = b.line()
        b_err = b.finish()
        ok(gone == "gone" and b.p.returncode == 0,
           "B removes it: then the key is gone (SharedMemory(key) raises ExistentialError)",
           gone + b_err)
        ok(shv_files(root) == [], "and the root holds no .SHV* file", shv_files(root))
    finally:
        for t in (a, b):
            if t:
                t.finish(5)


def part_postgres(srv):
    """initdb, a server and parallel queries in the sandbox; returns
    whether the data directory was made."""
    root = srv.root
    r = srv.initdb(shim=False, sandbox=True)
    out = r.stdout + r.stderr
    ok(r.returncode != 0, "in the sandbox, natively, initdb fails", out[-1500:])
    ok(re.search(r"could not create shared memory segment: Function not implemented", out),
       "saying: could not create shared memory segment: Function not implemented", out[-1500:])
    r = srv.initdb(shim=True, sandbox=True)
    out = r.stdout + r.stderr
    ok(r.returncode == 0, "under the shim (SHMSHIM_SYSV unset) in the sandbox, initdb works",
       out[-2000:])
    ok("selecting default max_connections ... 100" in out,
       "its trial runs of the server work (default max_connections 100, not the fallback)",
       out[-2000:])
    ok(shv_files(root) == [], "it leaves no .SHV* file in the root", shv_files(root))

    r = srv.pg_ctl_start(shim=True, sandbox=True)
    ok(r.returncode == 0, "the server starts under the shim in the sandbox (pg_ctl start -w)",
       r.stdout + r.stderr + (open(srv.log).read()[-2000:] if os.path.exists(srv.log) else ""))
    pf = srv.pidfile()
    files = shv_files(root)
    ok(pf and ".SHVD%d" % pf[2] in files and link_text(root, pf[1]) == str(pf[2]),
       "while it runs, its segment (postmaster.pid: key %s, ID %s) is <root>/.SHVD<id>, with "
       "the key's link" % (pf[1:] if pf else ("?", "?")), "%s %s" % (pf, files))
    ok(pf and pf[2] not in kernel_segments(), "the kernel has no segment of it")
    procs = [pf[0]] + sorted(children_of(pf[0])) if pf else []
    bad = [p for p in procs if not sandboxed_with_shim(p)]
    ok(len(procs) >= 4 and bad == [],
       "the postmaster and its %d children all run in the sandbox (seccomp filter) with the "
       "shim loaded" % (len(procs) - 1), "%s; not so: %s" % (procs, bad))

    r = srv.psql("CREATE TABLE t AS SELECT g AS x FROM generate_series(1, 200000) g; ANALYZE t;")
    ok(r.returncode == 0, "create a 200000-row table", r.stderr)
    r = srv.psql(PARALLEL + "SELECT count(*), sum(x) FROM t;")
    ok(r.returncode == 0 and r.stdout.strip().splitlines()[-1:] == ["200000|20000100000"],
       "a parallel count and sum give 200000 and 20000100000", r.stdout + r.stderr)
    r = srv.psql(PARALLEL + "EXPLAIN (ANALYZE, COSTS OFF) SELECT sum(x) FROM t WHERE x % 3 = 0;")
    launched = [int(n) for n in re.findall(r"Workers Launched: (\d+)", r.stdout)]
    ok(r.returncode == 0 and launched and max(launched) >= 1,
       "EXPLAIN ANALYZE shows parallel workers launched (%s)" % launched, r.stdout + r.stderr)

    r = srv.pg_ctl_stop()
    ok(r.returncode == 0, "it stops cleanly (pg_ctl stop -m fast)", r.stdout + r.stderr)
    ok(shv_files(root) == [], "after it the root holds no .SHVD, .SHVK or .SHVL file",
       shv_files(root))
    return os.path.exists(os.path.join(srv.data, "PG_VERSION"))


def part_interlock(srv, shim):
    """kill -9 of the postmaster while a backend runs, under the shim in
    the sandbox, or natively (no shim, no sandbox)."""
    label = "shim, sandbox" if shim else "native control"
    logs = [os.path.join(srv.work, "pm-%s-%d.log" % ("shim" if shim else "native", i))
            for i in range(3)]
    pm = srv.postmaster(shim, shim, logs[0])
    ready = srv.wait_ready(pm)
    # A backend that survives its postmaster: a busy loop does not look
    # for the postmaster's death, as a pg_sleep or an idle session does.
    busy = subprocess.Popen([BIN + "/psql", "-X", "-c", "DO $$BEGIN LOOP END LOOP; END$$"],
                            env=srv.env(False), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    backend = None
    end = time.monotonic() + 30
    while ready and backend is None and time.monotonic() < end:
        r = srv.psql("SELECT pid FROM pg_stat_activity WHERE query LIKE 'DO $$BEGIN LOOP%' "
                     "AND pid <> pg_backend_pid()")
        if r.returncode == 0 and r.stdout.strip().isdigit():
            backend = int(r.stdout.strip())
        else:
            time.sleep(0.1)
    kids = children_of(pm.pid)
    srv.recorded.update(kids)
    pf = srv.pidfile()
    if pf and not shim:
        srv.kernel.add((pf[2], pf[1]))
    if pm.poll() is None:
        os.kill(pm.pid, signal.SIGKILL)
        pm.wait(30)
    time.sleep(0.5)  # the other children see the postmaster die and exit
    survived = backend in kids and alive(backend, kids[backend])
    ok(ready and pf and pf[0] == pm.pid and survived,
       "%s: the server runs; after kill -9 of the postmaster (PID %d) a busy backend (PID %s) "
       "survives" % (label, pm.pid, backend),
       "ready %s, pid file %s, children %s" % (ready, pf, kids))

    second = srv.postmaster(shim, shim, logs[1])
    try:
        second.wait(60)
    except subprocess.TimeoutExpired:
        pass
    log = open(logs[1]).read()
    m = re.search(r"pre-existing shared memory block \(key (\d+), ID (\d+)\) is still in use", log)
    ok(second.returncode not in (None, 0) and m and pf and
       (int(m.group(1)), int(m.group(2))) == pf[1:],
       "%s: a second postmaster on the data directory is refused: pre-existing shared memory "
       "block (key %s, ID %s) is still in use" % ((label,) + (pf[1:] if pf else ("?", "?"))),
       "exit %s: %s" % (second.returncode, log[-1500:]))
    if shim:
        ok(pf and ".SHVD%d" % pf[2] in shv_files(srv.root),
           "%s: the old segment is still <root>/.SHVD%s" % (label, pf[2] if pf else "?"),
           shv_files(srv.root))
    else:
        ok(pf and kernel_segments().get(pf[2], (None, 0))[1] >= 1,
           "%s: the old segment is still the kernel's, attached (nattch %s)"
           % (label, pf and kernel_segments().get(pf[2])), kernel_segments())

    gone = kill_recorded(kids)
    busy_err = ""
    try:
        busy_err = busy.communicate(timeout=30)[1].decode(errors="replace")
    except subprocess.TimeoutExpired:
        end_started([busy])
    third = srv.postmaster(shim, shim, logs[2])
    started = gone and srv.wait_ready(third)
    now = srv.pidfile()
    r = srv.psql("SELECT 6 * 7")
    if shim:
        old_gone = pf and ".SHVD%d" % pf[2] not in shv_files(srv.root)
    else:
        old_gone = pf and pf[2] not in kernel_segments()
    ok(started and r.stdout.strip() == "42" and now and pf and now[2] != pf[2] and old_gone,
       "%s: once the backend is killed (by PID), a postmaster starts (new segment %s, the old "
       "one %s removed) and answers" % (label, now and now[2], pf and pf[2]),
       "%s %s %s\n%s" % (gone, now, r.stdout + r.stderr, open(logs[2]).read()[-1500:] + busy_err))
    if now and not shim:
        srv.kernel.add((now[2], now[1]))
    r = srv.pg_ctl_stop()
    try:
        third.wait(30)
    except subprocess.TimeoutExpired:
        pass
    if shim:
        ok(r.returncode == 0 and third.returncode == 0 and shv_files(srv.root) == [],
           "%s: it stops cleanly, leaving no .SHV* file in the root" % label,
           "%s %s %s" % (r.stdout + r.stderr, third.returncode, shv_files(srv.root)))
    else:
        left = [i for i, _ in srv.kernel if i in kernel_segments()]
        ok(r.returncode == 0 and third.returncode == 0 and left == [],
           "%s: it stops cleanly, leaving no kernel segment" % label,
           "%s %s %s" % (r.stdout + r.stderr, third.returncode, left))


def part_postgres_sysv(srv):
    """The server with all its shared memory in System V segments: the
    main one (shared_memory_type=sysv, about 150 MB) and the dynamic ones
    of parallel queries (dynamic_shared_memory_type=sysv, which attach by
    key with size 0), under the shim in the sandbox."""
    label = "shared_memory_type=sysv, dynamic_shared_memory_type=sysv"
    r = srv.pg_ctl_start(True, True, ["-c", "shared_memory_type=sysv",
                                      "-c", "dynamic_shared_memory_type=sysv"])
    ok(r.returncode == 0, "%s: the server starts under the shim in the sandbox" % label,
       r.stdout + r.stderr + (open(srv.log).read()[-2000:] if os.path.exists(srv.log) else ""))
    pf = srv.pidfile()
    main = os.path.join(srv.root, ".SHVD%d" % pf[2]) if pf else "/nonexistent"
    size = os.path.getsize(main) if os.path.exists(main) else 0
    ok(size >= 100 << 20 and link_text(srv.root, pf[1]) == str(pf[2]),
       "its main shared memory is <root>/.SHVD%s, a file of %d MB" % (pf and pf[2], size >> 20),
       "%s %s" % (pf, shv_files(srv.root)))
    segs = [f for f in shv_files(srv.root) if f.startswith(".SHVD")]
    ok(len(segs) >= 2, "the dynamic shared memory's control segment is another (%s)" % segs)
    r = srv.psql(PARALLEL + "SELECT count(*), sum(x) FROM t;")
    ok(r.returncode == 0 and r.stdout.strip().splitlines()[-1:] == ["200000|20000100000"],
       "%s: a parallel count and sum give 200000 and 20000100000" % label, r.stdout + r.stderr)
    r = srv.psql(PARALLEL + "EXPLAIN (ANALYZE, COSTS OFF) SELECT sum(x) FROM t WHERE x % 3 = 0;")
    launched = [int(n) for n in re.findall(r"Workers Launched: (\d+)", r.stdout)]
    ok(r.returncode == 0 and launched and max(launched) >= 1,
       "%s: parallel workers launched (%s)" % (label, launched), r.stdout + r.stderr)
    r = srv.pg_ctl_stop()
    ok(r.returncode == 0 and shv_files(srv.root) == [],
       "%s: it stops cleanly, leaving no .SHV* file in the root" % label,
       "%s %s" % (r.stdout + r.stderr, shv_files(srv.root)))


def pg_missing():
    """Why the PostgreSQL parts cannot run here, or None."""
    if os.getuid() != 0:
        return "needs root to run PostgreSQL as the postgres user"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no postgres user"
    if not os.path.exists(BIN + "/postgres"):
        return ("PostgreSQL is not installed (no pg_config --bindir, no postgres on PATH; "
                "Debian: postgresql-15 postgresql-client-15)")
    return None


def main():
    global LIB, NOSYSV
    for path in (LIB, NOSYSV):
        if not os.path.exists(path):
            skip_all("%s is not built (make check-build)" % path)
    if not os.path.exists("/proc/sysvipc/shm"):
        skip_all("the kernel has no System V IPC (/proc/sysvipc/shm)")
    # The postgres user must be able to run them; the checkout may be private.
    LIB, NOSYSV = public_copies(LIB, NOSYSV)

    root = tempfile.mkdtemp(prefix="shmshim-sysv.")
    os.chmod(root, 0o1777)
    work = None
    srv = None
    try:
        part_sandbox(root)
        part_settings(root)
        if importlib.util.find_spec("sysv_ipc"):
            part_sysv_ipc(root)
        else:
            skip(N_SYSV_IPC, "Python's sysv_ipc is not installed (Debian: python3-sysv-ipc)")

        why = pg_missing()
        if why:
            skip(N_PG + N_INTERLOCK + N_PG_SYSV, why)
            return done()
        work = tempfile.mkdtemp(prefix="shmshim-sysvpg.")
        os.chmod(work, 0o755)
        pgroot = os.path.join(work, "root")
        os.mkdir(pgroot)
        os.chmod(pgroot, 0o1777)
        for d, mode in (("sock", 0o755), ("data", 0o700)):
            os.mkdir(os.path.join(work, d), mode)
            shutil.chown(os.path.join(work, d), "postgres", "postgres")
        srv = Server(work, pgroot)
        if part_postgres(srv):
            part_interlock(srv, shim=True)
            part_interlock(srv, shim=False)
            part_postgres_sysv(srv)
        else:
            skip(N_INTERLOCK + N_PG_SYSV, "initdb did not make the data directory under the shim")
    finally:
        if srv:
            srv.cleanup()
        shutil.rmtree(root, ignore_errors=True)
        if work:
            shutil.rmtree(work, ignore_errors=True)
    return done()


sys.exit(main())

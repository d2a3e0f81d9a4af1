#!/usr/bin/python3
"""Real programs that make their own files, directories and sockets in
/dev/shm (shim/devshm.c, shim/devdir.c; the layout in shim/devpath.c).

- Open MPI: mpirun -np 2 and -np 4 of an MPI program on the vader
  shared-memory transport (--mca btl self,vader, so that it cannot fall
  back to TCP) fails natively where /dev/shm holds 1 MB, and works under
  the shim with checked sums; nothing is left in the root.
- JACK2: jackd -r -d dummy and jack_lsp where /dev/shm is missing or
  read-only: the server cannot start natively; under the shim (with glibc's
  names, which JACK needs) its registry, its Berkeley DB directory
  jack_db-0 and its server socket live in the root, the client lists the
  ports, and after the server stops the root holds what /dev/shm holds
  natively: the registry alone.
- Python: directories, files in them, listing, rename, tempfile, rmtree
  and a Unix-socket Listener beneath /dev/shm where it is missing.
- shmclean lists such directories and sockets (in use, with their users,
  or not), removes those nobody uses, whole, and keeps the rest.
- As another user (nobody) in a shared sticky root: a link planted in a
  directory's place is not followed by the victim's program, and the
  victim's directory and files cannot be read, changed or removed."""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip, skip_all, done, lambda_like, can_unshare, public_copies  # noqa: E402,E501

LIB = os.path.join(BUILD, "libshmshim.so")
PYTHON = "/usr/bin/python3"

RING = r'''
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

/* Each rank sends 64 Ki ints to rank 0, which adds them all up and
 * broadcasts the sum; an allreduce then adds the sums of every rank. */
int main(int argc, char **argv)
{
	int rank, size, i, r, n = 1 << 16;
	long sum = 0, total = 0;
	int *buf;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	buf = malloc(n * sizeof *buf);
	for (i = 0; i < n; i++)
		buf[i] = rank * n + i;
	if (rank != 0) {
		MPI_Send(buf, n, MPI_INT, 0, 1, MPI_COMM_WORLD);
	} else {
		for (i = 0; i < n; i++)
			sum += buf[i];
		for (r = 1; r < size; r++) {
			MPI_Recv(buf, n, MPI_INT, r, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			for (i = 0; i < n; i++)
				sum += buf[i];
		}
	}
	MPI_Bcast(&sum, 1, MPI_LONG, 0, MPI_COMM_WORLD);
	MPI_Allreduce(&sum, &total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
	if (rank == 0)
		printf("sum %ld total %ld\n", sum, total);
	free(buf);
	MPI_Finalize();
	return 0;
}
'''

TINY = "mount -t tmpfs -o size=1m shmshim-tiny /dev/shm"
READ_ONLY = "mount -t tmpfs -o ro,size=4k shmshim-ro /dev/shm"
WRITABLE = "mount -t tmpfs shmshim-rw /dev/shm"


def base_env(**more):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "SHMSHIM_"))}
    env.update(more)
    return env


def shim_env(root, **more):
    return base_env(LD_PRELOAD=LIB, SHMSHIM_DIR=root, **more)


def in_namespace(setup, cmd, env, timeout=300):
    """cmd with /dev/shm missing (setup None: Lambda's shape) or as setup
    makes it."""
    if setup is None:
        return lambda_like(cmd, env, timeout=timeout)
    script = setup + ' && exec "$@"'
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"]
                          + cmd, env=env, capture_output=True, text=True, timeout=timeout)


def test_mpi(root, work):
    if not (shutil.which("mpicc") and shutil.which("mpirun")):
        skip(7, "Open MPI is not installed (Debian: openmpi-bin libopenmpi-dev)")
        return
    src, prog = os.path.join(work, "ring.c"), os.path.join(work, "ring")
    with open(src, "w") as f:
        f.write(RING)
    r = subprocess.run(["mpicc", "-O2", "-o", prog, src], capture_output=True, text=True)
    if not ok(r.returncode == 0, "mpicc builds the MPI program", r.stderr):
        skip(6, "no MPI program")
        return
    mpi_tmp = os.path.join(work, "mpi-tmp")
    os.mkdir(mpi_tmp)
    extra = dict(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                 OMPI_MCA_btl="self,vader", TMPDIR=mpi_tmp)
    for np in (2, 4):
        cmd = ["mpirun", "--oversubscribe", "-np", str(np), prog]
        count = np * (1 << 16)
        want = "sum %d total %d" % (count * (count - 1) // 2, np * count * (count - 1) // 2)
        r = in_namespace(TINY, cmd, base_env(**extra))
        ok(r.returncode != 0 and want not in r.stdout,
           "-np %d on vader fails natively with a 1 MB /dev/shm" % np, r.stdout + r.stderr[-600:])
        r = in_namespace(TINY, cmd, shim_env(root, **extra))
        ok(r.returncode == 0 and want in r.stdout,
           "... and works under the shim: %s" % want, r.stdout + r.stderr[-1500:])
    r = in_namespace(None, ["mpirun", "--oversubscribe", "-np", "2", prog], shim_env(root, **extra))
    ok(r.returncode == 0 and "sum 8589869056 total 17179738112" in r.stdout,
       "-np 2 on vader works under the shim where there is no /dev/shm at all",
       r.stdout + r.stderr[-1500:])
    ok(os.listdir(root) == [], "... and leaves nothing in the root", os.listdir(root))


# Starts jackd, waits until a client can reach it (or it has died), lists
# the ports, and stops the server it started, by its PID.
JACK = r'''
jackd -r -d dummy -r 48000 -p 256 >"$JACK_LOG" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && kill -0 $pid 2>/dev/null && ! jack_lsp >/dev/null 2>&1; do
	sleep 0.1; i=$((i + 1))
done
jack_lsp; st=$?
kill $pid 2>/dev/null; wait $pid; echo "jackd exit $?"
exit $st
'''


def test_jack(root, work):
    if not (shutil.which("jackd") and shutil.which("jack_lsp")):
        skip(6, "JACK2 is not installed (Debian: jackd2)")
        return
    log = os.path.join(work, "jackd.log")
    extra = dict(JACK_NO_AUDIO_RESERVATION="1", JACK_NO_START_SERVER="1", JACK_LOG=log,
                 HOME=work)
    cmd = ["sh", "-c", JACK]
    r = in_namespace(WRITABLE, ["sh", "-c", JACK.replace("exit $st", "ls -A /dev/shm; exit $st")],
                     base_env(**extra))
    native_left = r.stdout.strip().splitlines()[-1:] if r.returncode == 0 else None
    ok(native_left == ["jack-shm-registry"],
       "natively, with a usable /dev/shm, jack_lsp lists the ports and the registry stays",
       r.stdout + r.stderr)
    for where, setup in (("missing", None), ("read-only", READ_ONLY)):
        r = in_namespace(setup, cmd, base_env(**extra))
        ok(r.returncode != 0 and "system:playback_1" not in r.stdout,
           "%s /dev/shm: the JACK server cannot start natively" % where, r.stdout + r.stderr)
        r = in_namespace(setup, cmd, shim_env(root, SHMSHIM_NAMES="glibc", **extra))
        with open(log) as f:
            jlog = f.read()
        ok(r.returncode == 0 and "system:playback_1" in r.stdout and "jackd exit 0" in r.stdout,
           "... and under the shim it starts and jack_lsp lists its ports",
           r.stdout + r.stderr + jlog[-1500:])
        left = sorted(os.listdir(root))
        ok(left == [".SHMD" + n for n in native_left or []],
           "... and stopped, it leaves what it leaves natively: %s" % left, left)
        for name in left:
            os.unlink(os.path.join(root, name))


# Directories, files in them, a listing, rename, tempfile and rmtree, and a
# Unix-socket Listener with a client in another process, beneath /dev/shm.
TREE = r'''
import os, shutil, tempfile, multiprocessing as mp
from multiprocessing.connection import Listener, Client

def client(addr):
    with Client(addr, family="AF_UNIX") as c:
        c.send(c.recv() * 2)

if __name__ == "__main__":
    os.mkdir("/dev/shm/tree")
    os.mkdir("/dev/shm/tree/sub")
    with open("/dev/shm/tree/sub/a", "w") as f:
        f.write("abc")
    os.rename("/dev/shm/tree/sub/a", "/dev/shm/tree/b")
    fd, tmp = tempfile.mkstemp(dir="/dev/shm/tree")
    os.close(fd)
    print("listing", sorted(n if n != os.path.basename(tmp) else "tmp"
                            for n in os.listdir("/dev/shm/tree")))
    print("read", open("/dev/shm/tree/b").read(), "isdir", os.path.isdir("/dev/shm/tree/sub"))
    shutil.rmtree("/dev/shm/tree")
    print("gone", not os.path.exists("/dev/shm/tree"))
    with Listener("/dev/shm/sock", family="AF_UNIX") as l:
        p = mp.Process(target=client, args=("/dev/shm/sock",))
        p.start()
        with l.accept() as c:
            c.send(21)
            print("answer", c.recv())
        p.join(60)
    print("sock gone", not os.path.exists("/dev/shm/sock"))
'''
TREE_OK = ("listing ['b', 'sub', 'tmp']", "read abc isdir True", "gone True", "answer 42",
           "sock gone True")


def test_tree(root, work):
    script = os.path.join(work, "tree.py")
    with open(script, "w") as f:
        f.write(TREE)
    r = lambda_like([PYTHON, script], base_env())
    ok(r.returncode != 0 and "No such file" in r.stderr,
       "Python's directories and sockets in /dev/shm fail natively where it is missing",
       r.stdout + r.stderr[-500:])
    r = lambda_like([PYTHON, script], shim_env(root))
    ok(r.returncode == 0 and all(w in r.stdout for w in TREE_OK),
       "... and under the shim mkdir, open, rename, mkstemp, listdir, rmtree, bind and connect "
       "work there", r.stdout + r.stderr[-1500:])
    ok(os.listdir(root) == [], "... leaving nothing in the root", os.listdir(root))


# Makes, under the shim, a tree held open and a socket listening (until
# told to stop on stdin), and a tree and a socket that nobody uses.
HOLDER = r"""
import os, socket, sys
os.makedirs("/dev/shm/kept/sub")
held = open("/dev/shm/kept/sub/f", "w")
os.makedirs("/dev/shm/gone/a/b")
for p in ("/dev/shm/gone/x", "/dev/shm/gone/a/b/y"):
    open(p, "w").close()
live = socket.socket(socket.AF_UNIX)
live.bind("/dev/shm/live")
live.listen(1)
dead = socket.socket(socket.AF_UNIX)
dead.bind("/dev/shm/dead")
dead.close()
print("ready", flush=True)
sys.stdin.readline()
"""


def shmclean(root, *args):
    return subprocess.run([os.path.join(BUILD, "shmclean"), "-d", root] + list(args),
                          env=base_env(), capture_output=True, text=True)


def test_shmclean(root):
    holder = subprocess.Popen([PYTHON, "-c", HOLDER], env=shim_env(root), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        ok(holder.stdout.readline().strip() == "ready", "a program makes trees and sockets")
        os.symlink("/", os.path.join(root, ".SHMDplanted"))
        outside = os.path.join(os.path.dirname(root), "outside")
        os.makedirs(os.path.join(outside, "d"))
        with open(os.path.join(outside, "d", "precious"), "w") as f:
            f.write("precious")
        os.symlink(os.path.join(outside, "d"), os.path.join(root, ".SHMDgone", "a", "link"))
        r = shmclean(root, "-l")
        rows = {line.split()[6]: line.split()[:2] for line in r.stdout.splitlines()[1:]}
        want = {"/kept": ["in-use", "shm-dir"], "/gone": ["orphan", "shm-dir"],
                "/live": ["in-use", "shm-socket"], "/dead": ["orphan", "shm-socket"],
                "/planted": ["foreign", "shm"]}
        ok(r.returncode == 0 and all(rows.get(k) == v for k, v in want.items()) and
           "%d(python3)" % holder.pid in r.stdout,
           "shmclean -l lists the directories and sockets, in use (with the holder's PID) or not",
           r.stdout + r.stderr)
        r = shmclean(root, "--older-than", "0")
        left = sorted(os.listdir(root))
        ok(r.returncode == 0 and left == [".SHMDkept", ".SHMDlive", ".SHMDplanted"],
           "shmclean removes the tree and the socket nobody uses, whole, and keeps the rest",
           r.stdout + r.stderr + str(left))
        ok(os.path.isfile(os.path.join(root, ".SHMDkept", "sub", "f")), "... the tree in use whole")
        with open(os.path.join(outside, "d", "precious")) as f:
            ok(f.read() == "precious", "a link inside the removed tree was removed, not followed")
        r = shmclean(root)
        ok(sorted(os.listdir(root)) == left, "a plain run keeps them too")
    finally:
        holder.communicate("stop\n", timeout=60)
    # A listener in a network namespace of its own: /proc/net/unix here
    # does not show it.
    other = subprocess.Popen(["unshare", "-n", PYTHON, "-c", "import socket, sys\n"
                              "s = socket.socket(socket.AF_UNIX)\ns.bind('/dev/shm/netns')\n"
                              "s.listen(1)\nprint('ready', flush=True)\nsys.stdin.readline()"],
                             env=shim_env(root), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        ok(other.stdout.readline().strip() == "ready", "a listener in another network namespace")
        r = shmclean(root, "--older-than", "0")
        ok(os.path.exists(os.path.join(root, ".SHMDnetns")) and "netns" not in r.stdout,
           "... keeps its socket: a connect to it is not refused", r.stdout)
    finally:
        other.communicate("stop\n", timeout=60)
    r = shmclean(root, "--older-than", "0")
    ok(not os.path.exists(os.path.join(root, ".SHMDnetns")), "... which goes once it has ended",
       r.stdout)
    deep = os.path.join(root, ".SHMDdeep", *["d"] * 34)
    os.makedirs(deep)
    open(os.path.join(deep, "f"), "w").close()
    r = shmclean(root, "--older-than", "0")
    ok(os.path.isfile(os.path.join(deep, "f")) and "unknown" in shmclean(root, "-l").stdout,
       "a tree deeper than 32 levels is unknown and kept whole", r.stdout)
    shutil.rmtree(os.path.join(root, ".SHMDdeep"))
    r = shmclean(root, "--older-than", "0")
    left = sorted(os.listdir(root))
    ok(left == [".SHMDplanted"] and os.path.isdir("/etc"),
       "once the holder has ended, they go; the planted link stays (foreign)", r.stdout + str(left))
    os.unlink(os.path.join(root, ".SHMDplanted"))


# What the victim's program does in the shared root.
VICTIM = r'''
import errno, os, sys
try:
    os.mkdir("/dev/shm/jack_db-0")
    print("mkdir made it")
except OSError as e:
    print("mkdir", errno.errorcode[e.errno])
try:
    os.close(os.open("/dev/shm/jack_db-0/__db.001", os.O_RDWR | os.O_CREAT, 0o600))
    print("open made it")
except OSError as e:
    print("open", errno.errorcode[e.errno])
'''

# What the attacker tries on the victim's directory and file.
ATTACK = r'''
import errno, os
def tried(what, f, *a):
    try:
        f(*a)
        print(what, "done")
    except OSError as e:
        print(what, errno.errorcode[e.errno])
tried("read", lambda: open("/dev/shm/vdir/f").read())
tried("write", lambda: os.open("/dev/shm/vdir/f", os.O_WRONLY | os.O_TRUNC))
tried("unlink", os.unlink, "/dev/shm/vdir/f")
tried("rename", os.rename, "/dev/shm/vdir", "/dev/shm/mine")
tried("rmdir", os.rmdir, "/dev/shm/vdir")
tried("plant", os.mkdir, "/dev/shm/vdir/x")
'''


def test_hostile(work):
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        skip(5, "no user nobody")
        return
    lib, = public_copies(LIB)
    shared = tempfile.mkdtemp(prefix="shmshim-shared.")
    os.chmod(shared, 0o1777)
    theirs = tempfile.mkdtemp(prefix="shmshim-theirs.")
    os.chown(theirs, nobody.pw_uid, nobody.pw_gid)
    os.chmod(theirs, 0o777)
    as_nobody = ["setpriv", "--reuid", str(nobody.pw_uid), "--regid", str(nobody.pw_gid),
                 "--clear-groups"]
    env = dict(base_env(), LD_PRELOAD=lib, SHMSHIM_DIR=shared)
    try:
        r = subprocess.run(as_nobody + ["ln", "-s", theirs, os.path.join(shared, ".SHMDjack_db-0")],
                           env=base_env(), capture_output=True, text=True)
        ok(r.returncode == 0, "nobody plants a link to a directory of theirs where jack_db-0 goes",
           r.stderr)
        r = subprocess.run([PYTHON, "-c", VICTIM], env=env, capture_output=True, text=True)
        ok("mkdir EEXIST" in r.stdout and "open ENOTDIR" in r.stdout and os.listdir(theirs) == [],
           "root's program does not follow it: mkdir is EEXIST, the open beneath it ENOTDIR, "
           "nothing made in nobody's directory", r.stdout + r.stderr)
        os.unlink(os.path.join(shared, ".SHMDjack_db-0"))
        r = subprocess.run([PYTHON, "-c", "import os; os.mkdir('/dev/shm/vdir', 0o755); "
                            "open('/dev/shm/vdir/f', 'w').write('secret'); "
                            "os.chmod('/dev/shm/vdir/f', 0o600)"], env=env,
                           capture_output=True, text=True)
        ok(r.returncode == 0, "root makes /dev/shm/vdir and a file in it, mode 0600", r.stderr)
        r = subprocess.run(as_nobody + [PYTHON, "-c", ATTACK], env=env, capture_output=True,
                           text=True)
        want = ("read EACCES", "write EACCES", "unlink EACCES", "rename EPERM", "rmdir EPERM",
                "plant EACCES")
        ok(all(w in r.stdout for w in want), "nobody can neither read, change nor remove them: "
           + ", ".join(want), r.stdout + r.stderr)
        with open(os.path.join(shared, ".SHMDvdir", "f")) as f:
            ok(f.read() == "secret" and sorted(os.listdir(shared)) == [".SHMDvdir"],
               "... they are intact", os.listdir(shared))
    finally:
        shutil.rmtree(shared, True)
        shutil.rmtree(theirs, True)


def main():
    if not can_unshare():
        skip_all("needs root and unshare -m, for private mount namespaces")
        return 0
    work = tempfile.mkdtemp(prefix="shmshim-programs.")
    root = os.path.join(work, "root")
    os.mkdir(root)
    try:
        test_mpi(root, work)
        test_jack(root, work)
        test_tree(root, work)
        test_shmclean(root)
        test_hostile(work)
    finally:
        shutil.rmtree(work, True)
    return done()


sys.exit(main())

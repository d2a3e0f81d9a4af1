#!/usr/bin/python3
"""SHMSHIM_DEBUG gives the reason of every refusal: each check of the
shim's own that can refuse a call is provoked, in a real process under the
preload, and its trace line must end with the errno and the reason. A
failure that is the system's own answer (a missing object) has the errno
alone."""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, done, public_copies  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(BUILD, "libshmshim.so")
SHM_TOOL = os.path.join(BUILD, "tests", "shm_tool")
PYTHON = "/usr/bin/python3"

# The calls, made through ctypes so that the names reach the library as
# they are. argv: call name [flags [value]].
CALLER = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.sem_open.restype = ctypes.c_void_p
call, name = sys.argv[1], sys.argv[2].encode("latin-1")
flags = int(sys.argv[3]) if len(sys.argv) > 3 else 0
if call == "shm_open":
    libc.shm_open(name, flags, 0o600)
elif call == "sem_open":
    libc.sem_open(name, flags, 0o600, ctypes.c_uint(int(sys.argv[4]) if len(sys.argv) > 4 else 0))
else:
    getattr(libc, call)(name)
"""

O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC = 0, 1, 2, 0o100, 0o1000


def trace(root, args, env_extra=None, user=None, lib=LIB):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHMSHIM_")}
    env.update(LD_PRELOAD=lib, SHMSHIM_DIR=root, SHMSHIM_DEBUG="1", SHMSHIM_QUIET="1")
    env.update(env_extra or {})
    cmd = [PYTHON, "-c", CALLER] + [str(a) for a in args]
    if user:
        pw = pwd.getpwnam(user)
        cmd = ["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
               "--clear-groups"] + cmd
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd="/")
    if p.returncode != 0:
        print("# %s: exit %d: %s" % (" ".join(cmd[:2]), p.returncode, p.stderr.strip()))
    return [line for line in p.stderr.splitlines() if line.startswith("shmshim[")]


def expect(root, label, args, errno_name, why, env_extra=None, user=None, lib=LIB):
    lines = trace(root, args, env_extra, user, lib)
    want = "= -1 %s (" % errno_name
    good = len(lines) == 1 and want in lines[0] and lines[0].endswith("): " + why)
    ok(good, "%s: %s, and why: %s" % (label, errno_name, why), "\n".join(lines) or "no trace line")


def main():
    root = tempfile.mkdtemp(prefix="shmshim-debug.")
    os.chmod(root, 0o1777)
    path = lambda leaf: os.path.join(root, leaf)  # noqa: E731
    try:
        expect(root, "a name without a slash", ["shm_open", "foo", O_RDWR | O_CREAT],
               "EINVAL", "the strict rules want a leading slash")
        expect(root, "two leading slashes", ["shm_unlink", "//foo"],
               "EINVAL", "the strict rules want one leading slash, not more")
        expect(root, "a slash inside", ["sem_open", "/a/b", O_CREAT, 1],
               "EINVAL", "a slash inside the name")
        expect(root, "only a slash", ["shm_open", "/", O_RDWR | O_CREAT],
               "EINVAL", "the name is empty but for its slashes")
        expect(root, "256 characters", ["shm_open", "/" + "x" * 256, O_RDWR | O_CREAT],
               "ENAMETOOLONG", "longer than a file name can be in the directory (NAME_MAX)")
        glibc = {"SHMSHIM_NAMES": "glibc"}
        expect(root, "glibc mode, \".\"", ["shm_open", ".", O_RDWR | O_CREAT], "EINVAL",
               "under glibc's rules \".\" and \"..\" name directories", glibc)
        expect(root, "glibc mode, a 252-character semaphore",
               ["sem_open", "/" + "s" * 252, O_CREAT, 1], "ENAMETOOLONG",
               "under glibc's rules a semaphore's name has at most 251 characters "
               "(its file is sem.NAME)", glibc)
        expect(root, "glibc mode, 300 characters", ["shm_unlink", "/" + "x" * 300], "ENOENT",
               "glibc's rules take at most 259 characters (255 for a semaphore)", glibc)
        expect(root, "O_WRONLY", ["shm_open", "/w", O_WRONLY | O_CREAT], "EINVAL",
               "an object opens read-only or read-write (POSIX allows EINVAL for O_WRONLY)")
        expect(root, "O_RDONLY|O_TRUNC", ["shm_open", "/t", O_RDONLY | O_TRUNC], "EINVAL",
               "O_TRUNC with O_RDONLY (POSIX leaves it undefined)")

        os.symlink("/etc/passwd", path(".SHMDlink"))
        expect(root, "a symbolic link at the object's path", ["shm_open", "/link", O_RDWR],
               "EINVAL", "a symbolic link, directory or socket is at the object's path")
        os.mkfifo(path(".SHMDfifo"))
        expect(root, "a FIFO there", ["shm_unlink", "/fifo"], "EINVAL",
               "not a regular file at the object's path (a FIFO, directory, socket or device)")
        os.mkdir(path(".SHMDdir"))
        expect(root, "a directory there", ["shm_open", "/dir", O_RDWR], "EINVAL",
               "a symbolic link, directory or socket is at the object's path")
        with open(path(".SHMDhard"), "w"):
            pass
        os.link(path(".SHMDhard"), path("elsewhere"))
        expect(root, "a hard link", ["shm_open", "/hard", O_RDWR], "EINVAL",
               "the object's file has another link (a hard link to a file elsewhere)")
        expect(root, "a semaphore value above SEM_VALUE_MAX",
               ["sem_open", "/big", O_CREAT, 2**31], "EINVAL", "the value is above SEM_VALUE_MAX")
        with open(path(".SEMDshort"), "w") as f:
            f.write("x")
        expect(root, "a semaphore file too short", ["sem_open", "/short", 0], "EINVAL",
               "the file is too short to hold a semaphore")
        expect(root, "SHMSHIM_DIR set but empty", ["shm_open", "/x", O_RDWR | O_CREAT],
               "ENOENT", "SHMSHIM_DIR is set but empty", {"SHMSHIM_DIR": ""})

        # The object's lock held by another process.
        os.close(os.open(path(".SHMDheld"), os.O_CREAT | os.O_RDWR, 0o600))
        holder = subprocess.Popen([SHM_TOOL, "flock", "/held"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True,
                                  env=dict(os.environ, LD_PRELOAD=LIB, SHMSHIM_DIR=root))
        try:
            ready = holder.stdout.readline().strip() == "ready"
            ok(ready, "a process holds the object's lock")
            expect(root, "the lock held past the time-out", ["shm_unlink", "/held"], "EAGAIN",
                   "another process held the object's lock longer than SHMSHIM_LOCK_TIMEOUT_MS",
                   {"SHMSHIM_LOCK_TIMEOUT_MS": "0"})
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)

        # Another user removing root's object in the sticky root.
        (lib,) = public_copies(LIB)
        fd = os.open(path(".SHMDroots"), os.O_CREAT | os.O_RDWR, 0o644)
        os.close(fd)
        expect(root, "another user's shm_unlink in a sticky directory", ["shm_unlink", "/roots"],
               "EACCES", "in a sticky directory only the object's owner, the directory's "
               "owner or root may remove it", user="nobody", lib=lib)
        ok(os.path.exists(path(".SHMDroots")), "... and the object is still there")

        lines = trace(root, ["shm_open", "/missing", O_RDWR])
        ok(len(lines) == 1 and lines[0].endswith("= -1 ENOENT (No such file or directory)"),
           "a missing object: the system's ENOENT, with no reason of the shim's", lines)
        lines = trace(root, ["shm_open", "/fine", O_RDWR | O_CREAT])
        ok(len(lines) == 1 and lines[0].endswith(" = 3"), "a call that works: its result", lines)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    done()


main()

"""shmshim for Python: POSIX shared memory and named semaphores as files.

The wheel carries libshmshim.so, the shmshim launcher and shmclean. A
program runs under the shim when the library is in its LD_PRELOAD from
the start: with the `shmshim` command (`shmshim python3 app.py`), with
`python -m shmshim app.py`, or from inside with enable(), which starts
the interpreter again under it. multiprocessing's Pool, Queue, Lock and
shared_memory then work where /dev/shm is missing or too small.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def library_path():
    """The absolute path of the bundled libshmshim.so."""
    return os.path.join(_HERE, "lib", "libshmshim.so")


def launcher_path():
    """The bundled shmshim launcher."""
    return os.path.join(_HERE, "bin", "shmshim")


def shmclean_path():
    """The bundled shmclean."""
    return os.path.join(_HERE, "bin", "shmclean")


def enabled():
    """Whether this process was started with the bundled library in its
    LD_PRELOAD (the loader reads it only at start)."""
    words = os.environ.get("LD_PRELOAD", "").replace(":", " ").split()
    return library_path() in words


def enable(directory=None):
    """Starts this interpreter again, with the same command line, under
    the shim, unless it already runs under it (then returns at once). The
    library goes first in LD_PRELOAD, keeping what was there; directory,
    if given, becomes SHMSHIM_DIR. Call it first thing: the process is
    replaced, and whatever it did before is done again."""
    if enabled():
        return
    lib = library_path()
    if any(c.isspace() or c == ":" for c in lib):
        # LD_PRELOAD splits at white space and colons, with no escape.
        raise RuntimeError("shmshim: the library's path %r cannot be put in LD_PRELOAD; "
                           "install shmshim where the path has no spaces or colons" % lib)
    env = dict(os.environ)
    env["LD_PRELOAD"] = lib + (" " + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    if directory is not None:
        env["SHMSHIM_DIR"] = os.path.abspath(directory)
    # orig_argv (3.10) keeps -c CODE and -m MODULE, which argv loses.
    argv = list(getattr(sys, "orig_argv", [])) or [sys.executable] + sys.argv
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable] + argv[1:], env)

"""The commands of the wheel.

    shmshim [OPTION]... [--] COMMAND [ARG]...    the launcher, bundled
    shmclean [OPTION]...                         shmclean, bundled
    python -m shmshim [OPTION]... [--] SCRIPT [ARG]...
    python -m shmshim [OPTION]... -m MODULE [ARG]...
    python -m shmshim [OPTION]... -c CODE [ARG]...

The last three run Python, this interpreter, under the shim: the
launcher's options (see shmshim --help) come first, then what would
follow "python". The commands are the compiled programs themselves,
started in place of this process, so their options and exit statuses are
those of shmshim(1) and shmclean(1).
"""
import os
import sys

from . import launcher_path, shmclean_path

USAGE = """usage: python -m shmshim [OPTION]... [--] SCRIPT [ARG]...
       python -m shmshim [OPTION]... -m MODULE [ARG]...
       python -m shmshim [OPTION]... -c CODE [ARG]...
Run Python (this interpreter) under the shim: its shared memory and named
semaphores become files in a directory (default /tmp).

The OPTIONs are the shmshim launcher's: -d DIR, --names RULES,
--lock-timeout MS, --debug (see: shmshim --help).
"""

# The launcher's options that take a value as the next argument.
WITH_VALUE = ("-d", "--dir", "--names", "--lock-timeout")
# Those after which there is nothing to run.
STANDALONE = ("-h", "--help", "-V", "--version", "--print-lib")


def _run(program, args):
    try:
        os.execv(program, [program] + args)
    except OSError as e:
        sys.exit("shmshim: cannot run %s: %s" % (program, e.strerror))


def launcher():
    """The shmshim command."""
    _run(launcher_path(), sys.argv[1:])


def shmclean():
    """The shmclean command."""
    _run(shmclean_path(), sys.argv[1:])


def split(args):
    """The launcher's options, and what Python is to run; None when the
    options end with nothing to run."""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return args[:i], args[i + 1:]
        if a in ("-m", "-c"):
            return args[:i], args[i:]
        if a in WITH_VALUE:
            i += 2
        elif a.startswith("-") and a != "-":
            i += 1
        else:
            return args[:i], args[i:]
    return args, []


def main(args):
    options, python = split(args)
    if any(a in ("-h", "--help") for a in options):
        sys.stdout.write(USAGE)
        return 0
    if not python or python[0] in ("-m", "-c") and len(python) < 2:
        if any(a in STANDALONE for a in options):
            _run(launcher_path(), options)
        sys.stderr.write(USAGE)
        return 2
    _run(launcher_path(), options + ["--", sys.executable] + python)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

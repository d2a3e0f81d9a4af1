#!/usr/bin/python3
"""shmclean built for the other platforms make check tests (musl, and
aarch64 under qemu-aarch64): it lists the objects that the platform's
programs make under the platform's library, tells which are in use and by
whom, and removes only the orphans. The platform builds are made by make
check when their compilers are there (tests/run); without one, its tests
are skipped with the reason."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import ok, skip, done, platform, end_started  # noqa: E402

started = []


def env_of(extra, root):
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env.update(extra, SHMSHIM_DIR=root)
    return env


def check_platform(name, setup, root):
    build, prefix, clean_env, tool_env = setup
    tool = prefix + [os.path.join(build, "tests", "shm_tool")]
    clean = prefix + [os.path.join(build, "shmclean")]

    made = subprocess.run(tool + ["create", "/dead", "100"], env=env_of(tool_env, root),
                          capture_output=True, text=True, timeout=60)
    ok(made.returncode == 0 and os.path.isfile(os.path.join(root, ".SHMDdead")),
       "%s: a program under the %s library makes <root>/.SHMDdead" % (name, name),
       made.stderr)
    h = subprocess.Popen(tool + ["hold", "/held", "8192"], env=env_of(tool_env, root),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    started.append(h)
    ok(h.stdout.readline().strip() == "ready", "%s: another holds /held open" % name)

    def shmclean(*args):
        return subprocess.run(clean + ["-d", root] + list(args), env=env_of(clean_env, root),
                              capture_output=True, text=True, timeout=120)
    r = shmclean("-l")
    lines = r.stdout.splitlines()
    held = [x for x in lines if re.search(r" /held( |$)", x)]
    dead = [x for x in lines if re.search(r" /dead( |$)", x)]
    ok(r.returncode == 0 and len(held) == 1 and "in-use" in held[0] and
       "%d(" % h.pid in held[0] and len(dead) == 1 and "orphan" in dead[0],
       "%s shmclean -l: /held in use by the holder's PID, /dead an orphan" % name,
       r.stdout + r.stderr)
    r = shmclean("--older-than", "0")
    ok(r.returncode == 0 and "removed shm /dead" in r.stdout and "/held" not in r.stdout and
       not os.path.exists(os.path.join(root, ".SHMDdead")) and
       os.path.exists(os.path.join(root, ".SHMDheld")),
       "%s shmclean: removes the orphan and keeps what is in use" % name, r.stdout + r.stderr)
    h.stdin.close()
    h.wait(60)
    r = shmclean("--older-than", "0", "-q")
    ok(r.returncode == 0 and os.listdir(root) == [],
       "%s shmclean: once its holder is gone, /held goes too; the root is empty" % name,
       r.stdout + r.stderr + str(os.listdir(root)))


def main():
    root = tempfile.mkdtemp(prefix="shmshim-test.")
    try:
        for name in ("musl", "aarch64"):
            setup = platform(name)
            if isinstance(setup, str):
                skip(5, setup)
            else:
                check_platform(name, setup, root)
    finally:
        end_started(started)
        shutil.rmtree(root, ignore_errors=True)
    return done()


sys.exit(main())

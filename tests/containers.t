#!/usr/bin/python3
"""The README's container recipes, applied as they stand: the Dockerfile
fragment's COPY and ENV lines, the Kubernetes pod's variables and volume,
and the one-line check that the library is active. No container runtime
is used: the image is a private mount namespace without /dev/shm (and with
a read-only root but /tmp), where the COPY destinations are staged on a
fresh /usr/local and the pod's volume is a fresh directory. Python's
multiprocessing works there under each recipe and fails without."""
import os
import re
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, TOP, MP_CODE, ok, skip_all, done, lambda_like, can_unshare, mp_worked  # noqa: E402,E501

def fenced(readme, lang):
    m = re.search(r"```%s\n(.*?)```" % lang, readme, re.S)
    return m.group(1) if m else ""


def docker_steps(text):
    """The COPY pairs and ENV settings of a Dockerfile fragment."""
    copies = re.findall(r"^COPY (\S+) (\S+)$", text, re.M)
    env = dict(re.findall(r"^ENV (\w+)=(\S+)$", text, re.M))
    return copies, env


def pod_steps(text):
    """The env list and the volume mount paths of a pod spec."""
    env = dict(re.findall(r"- name: (\w+)\n\s+value: (\S+)", text))
    mounts = re.findall(r"mountPath: (\S+)", text)
    return env, mounts


def base_env():
    return {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "SHMSHIM_"))}


def stage_copies(copies):
    """Shell commands that put each COPY source (relative to the top of
    the tree, where the README says to build) at its destination, on a
    fresh tmpfs over /usr/local: the image's file system."""
    cmds = ["mount -t tmpfs -o size=64m shmshim-image /usr/local"]
    for src, dst in copies:
        if not dst.startswith("/usr/local/"):
            raise ValueError("the test stages COPY destinations under /usr/local only: " + dst)
        cmds.append("mkdir -p %s && cp %s %s" % (shlex.quote(os.path.dirname(dst)),
                                                 shlex.quote(os.path.join(TOP, src)),
                                                 shlex.quote(dst)))
    return " && ".join(cmds)


def run(setup, env, code=MP_CODE):
    return lambda_like(["/usr/bin/python3", "-c", code], env, setup)


def main():
    if not can_unshare():
        skip_all("a namespace without /dev/shm needs root and unshare -m")
    if os.path.realpath(BUILD) != os.path.join(TOP, "build"):
        skip_all("the recipes copy from build/, and the build under test is %s" % BUILD)
    with open(os.path.join(TOP, "README.md")) as f:
        readme = f.read()
    copies, denv = docker_steps(fenced(readme, "dockerfile"))
    ok(len(copies) >= 1 and "LD_PRELOAD" in denv,
       "the README's Dockerfile fragment copies the library and sets LD_PRELOAD", (copies, denv))
    setup = stage_copies(copies)
    r = run(setup, dict(base_env(), **denv))
    ok(mp_worked(r),
       "with the fragment's files and ENV, multiprocessing works without /dev/shm",
       r.stdout + r.stderr)
    r = run(setup, base_env())
    ok(r.returncode != 0 and "Errno 2" in r.stderr,
       "... and fails there without its ENV", r.stdout + r.stderr[-400:])

    check = re.search(r"^    (SHMSHIM_DEBUG=1 python3 -c .*)$", readme, re.M)
    ok(check is not None, "the README gives a one-line check")
    if check:
        r = lambda_like(["sh", "-c", check.group(1)], dict(base_env(), **denv), setup)
        root = denv.get("SHMSHIM_DIR", "/tmp")
        ok(r.returncode == 0 and re.search(r"shmshim\[\d+\]: shm_open\(.* file %s/\.SHMD"
                                           % re.escape(root), r.stderr),
           "... which prints a shmshim line naming the file in SHMSHIM_DIR", r.stderr)
        r = lambda_like(["sh", "-c", check.group(1)], base_env(), setup)
        ok("shmshim[" not in r.stderr, "... and prints none without the library", r.stderr)

    penv, mounts = pod_steps(fenced(readme, "yaml"))
    ok("LD_PRELOAD" in penv and penv.get("SHMSHIM_DIR") in mounts,
       "the README's pod sets LD_PRELOAD, and SHMSHIM_DIR to a volume it mounts", (penv, mounts))
    vol = penv.get("SHMSHIM_DIR", "/run/shmshim")
    # The volume: an empty directory, on a fresh /run (where the pod's is).
    pod_setup = setup + " && mount -t tmpfs -o size=64m shmshim-run /run && mkdir -p " + \
        shlex.quote(vol)
    code = MP_CODE + ("import os\n"
                   "s = shared_memory.SharedMemory(name='pod', create=True, size=4096)\n"
                   "print('in volume', os.path.exists(%r))\n"
                   "s.close(); s.unlink()\n"
                   "print('files', sorted(os.listdir(%r)))\n") % (vol + "/.SHMDpod", vol)
    r = run(pod_setup, dict(base_env(), **penv), code)
    ok(mp_worked(r) and "in volume True" in r.stdout and "files []" in r.stdout,
       "with the pod's variables and volume, multiprocessing works, its objects are files in "
       "the volume, and it leaves the volume empty", r.stdout + r.stderr)
    return done()


sys.exit(main())

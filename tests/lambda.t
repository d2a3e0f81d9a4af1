#!/usr/bin/python3
"""The AWS Lambda layers (make lambda-layer), used as Lambda uses them.

The x86_64 zip is unpacked onto /opt in a private mount namespace shaped
like Lambda's (no /dev/shm at all, a read-only root, a fresh /tmp), and a
Python handler that uses multiprocessing's Pool, Queue and Lock and a
shared_memory block between processes is run the way the runtime runs it:
the exec wrapper, then the interpreter and a bootstrap script. It works
through the wrapper and fails without it, so the test cannot pass by
accident. The arm64 zip's library is loaded into an aarch64 program under
qemu-aarch64 for a create, open and removal, and the
arm64 shmclean lists the object."""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, VERSION, MP_CODE, ok, skip, done, lambda_like, can_unshare, platform  # noqa: E402

# MP_CODE's functions, called as a Lambda handler, which also reports
# where the objects were and what the wrapper set.
HANDLER = MP_CODE + r'''
import os

def handler(event, context):
    with mp.Pool(2) as pool:
        total = sum(pool.map(triple, range(event["n"])))
    lock, q = mp.Lock(), mp.Queue()
    s = shared_memory.SharedMemory(name="lambda-block", create=True, size=4096)
    in_tmp = os.path.exists("/tmp/.SHMDlambda-block")
    kids = [mp.Process(target=child, args=(lock, q, "lambda-block")) for _ in range(3)]
    for k in kids: k.start()
    got = [q.get(timeout=60) for _ in kids]
    for k in kids: k.join(60)
    bumped = s.buf[0]
    s.close(); s.unlink()
    return {"total": total, "bumped": bumped, "done": got.count("hi"), "in_tmp": in_tmp,
            "preload": os.environ.get("LD_PRELOAD"), "dir": os.environ.get("SHMSHIM_DIR")}
'''

# What the runtime does, reduced: import the handler from the task
# directory, call it with an event, print the answer.
BOOTSTRAP = r'''
import json, sys
sys.path.insert(0, "/mnt")
import handler
try:
    print(json.dumps(handler.handler({"n": 100}, None)), flush=True)
except Exception as e:
    print("ERROR %s: %s" % (type(e).__name__, e), flush=True)
    sys.exit(1)
'''


def listing(path):
    with zipfile.ZipFile(path) as z:
        return sorted((i.filename, (i.external_attr >> 16) & 0o777) for i in z.infolist())


def elf_machine(path):
    with open(path, "rb") as f:
        head = f.read(20)
    return head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little")


def test_x86_64(zip_path, task):
    # Lambda unpacks the layer on /opt and the function's code in
    # /var/task (here /mnt); its /tmp is its own.
    setup = ("mount -t tmpfs -o size=16m shmshim-opt /opt && unzip -q %s -d /opt && "
             "mount -t tmpfs -o size=1m shmshim-task /mnt && cp %s/handler.py %s/bootstrap.py /mnt && "
             "mount -t tmpfs -o size=64m shmshim-lambda-tmp /tmp"
             % (shlex.quote(zip_path), shlex.quote(task), shlex.quote(task)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "SHMSHIM_"))}
    libm = subprocess.run(["cc", "-print-file-name=libm.so.6"], capture_output=True,
                          text=True).stdout.strip()
    env_kept = dict(env, LD_PRELOAD=libm)

    r = lambda_like(["/opt/bin/shmshim-exec", "/usr/bin/python3", "/mnt/bootstrap.py"], env_kept,
                    setup)
    import json
    try:
        got = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        got = {}
    ok(r.returncode == 0 and got.get("total") == 3 * 4950 and got.get("bumped") == 3 and
       got.get("done") == 3, "through the wrapper, a handler's Pool, Queue, Lock and "
       "shared_memory work where there is no /dev/shm", r.stdout + r.stderr)
    ok(got.get("in_tmp") is True and got.get("dir") == "/tmp",
       "... its objects are files in Lambda's /tmp (SHMSHIM_DIR=/tmp)", got)
    ok(got.get("preload") == "/opt/lib/libshmshim.so " + libm,
       "... LD_PRELOAD names the layer's library first and keeps what was there", got)

    r = lambda_like(["/usr/bin/python3", "/mnt/bootstrap.py"], env, setup)
    ok(r.returncode != 0 and ("[Errno 2]" in r.stdout or "[Errno 38]" in r.stdout or
                              "Function not implemented" in r.stdout),
       "without the wrapper the same handler fails as Lambda's Python does", r.stdout + r.stderr)

    r = lambda_like(["/opt/bin/shmshim-exec", "/bin/sh", "-c",
                     'echo "$LD_PRELOAD"; /opt/bin/shmshim-exec /bin/sh -c \'echo "$LD_PRELOAD"\''],
                    env, setup)
    lines = r.stdout.split()
    ok(r.returncode == 0 and lines == ["/opt/lib/libshmshim.so"] * 2,
       "the wrapper names the library once, even when run under itself", r.stdout + r.stderr)
    r = lambda_like(["/opt/bin/shmshim-exec"], env, setup)
    ok(r.returncode == 2 and "usage" in r.stderr, "the wrapper without a command: usage, exit 2",
       r.stderr)
    r = lambda_like(["/opt/bin/shmshim", "--print-lib"], env, setup)
    ok(r.returncode == 0 and r.stdout.strip() == "/opt/lib/libshmshim.so",
       "the layer's launcher finds the layer's library", r.stdout + r.stderr)
    r = lambda_like(["/opt/bin/shmclean", "--version"], env, setup)
    ok(r.returncode == 0 and VERSION in r.stdout, "the layer's shmclean runs and says %s" % VERSION,
       r.stdout + r.stderr)


def test_arm64(zip_path, work):
    setup = platform("aarch64")
    if isinstance(setup, str):
        skip(5, setup)
        return
    build, prefix, env_add, _ = setup
    tool = os.path.join(build, "tests", "shm_tool")
    if not os.path.exists(tool):
        skip(5, "%s is not built (make check-build)" % tool)
        return
    layer = os.path.join(work, "arm64")
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(layer)
    lib = os.path.join(layer, "lib", "libshmshim.so")
    clean = os.path.join(layer, "bin", "shmclean")
    for f in (lib, clean):
        os.chmod(f, 0o755)
    ok(elf_machine(lib) == 183 and elf_machine(clean) == 183,
       "the arm64 layer's library and shmclean are aarch64 programs")
    root = tempfile.mkdtemp(prefix="shmshim-test.")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "SHMSHIM_"))}
        env.update(env_add, SHMSHIM_DIR=root)
        with_lib = dict(env, QEMU_SET_ENV="LD_PRELOAD=" + lib)
        r = subprocess.run(prefix + [tool, "create", "/layer", "100"], env=with_lib,
                           capture_output=True, text=True, timeout=120)
        ok(r.returncode == 0 and os.path.isfile(os.path.join(root, ".SHMDlayer")),
           "under qemu-aarch64 the arm64 library creates /layer as <root>/.SHMDlayer",
           r.stdout + r.stderr)
        r = subprocess.run(prefix + [tool, "open", "/layer"], env=with_lib, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
        ok(r.returncode == 0 and "ready" in r.stdout, "... and opens it again", r.stdout + r.stderr)
        r = subprocess.run(prefix + [clean, "-d", root, "-l"], env=env,
                           capture_output=True, text=True, timeout=120)
        ok(r.returncode == 0 and " /layer" in r.stdout,
           "... the arm64 layer's shmclean lists it", r.stdout + r.stderr)
        r = subprocess.run(prefix + [tool, "unlink", "/layer"], env=with_lib,
                           capture_output=True, text=True, timeout=120)
        ok(r.returncode == 0 and os.listdir(root) == [], "... and shm_unlink removes it",
           r.stdout + r.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    work = tempfile.mkdtemp(prefix="shmshim-lambda.")
    try:
        dist = os.path.join(work, "dist")
        r = subprocess.run(["make", "-s", "lambda-layer", "DISTDIR=" + dist], cwd=TOP,
                           capture_output=True, text=True, timeout=600)
        names = sorted(os.listdir(dist)) if os.path.isdir(dist) else []
        x86 = os.path.join(dist, "shmshim-lambda-layer-%s-x86_64.zip" % VERSION)
        arm = os.path.join(dist, "shmshim-lambda-layer-%s-arm64.zip" % VERSION)
        ok(r.returncode == 0 and x86 in [os.path.join(dist, n) for n in names],
           "make lambda-layer writes %s" % os.path.basename(x86), r.stdout + r.stderr)
        want = [("bin/", 0o755), ("bin/shmclean", 0o755), ("bin/shmshim", 0o755),
                ("bin/shmshim-exec", 0o755), ("lib/", 0o755), ("lib/libshmshim.so", 0o755)]
        ok(os.path.exists(x86) and listing(x86) == want,
           "... holding bin/shmshim-exec, bin/shmshim, bin/shmclean and lib/libshmshim.so, "
           "executable", listing(x86) if os.path.exists(x86) else names)
        if not can_unshare():
            skip(8, "a namespace like Lambda's needs root and unshare -m")
        else:
            task = os.path.join(work, "task")
            os.mkdir(task)
            for name, text in (("handler.py", HANDLER), ("bootstrap.py", BOOTSTRAP)):
                with open(os.path.join(task, name), "w") as f:
                    f.write(text)
            test_x86_64(x86, task)
        if os.path.exists(arm):
            ok(listing(arm) == want, "make lambda-layer also writes %s, laid out the same"
               % os.path.basename(arm))
            test_arm64(arm, work)
        else:
            skip(6, "no arm64 layer: %s" % (r.stdout.strip() or "the aarch64 compiler is missing"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return done()


sys.exit(main())

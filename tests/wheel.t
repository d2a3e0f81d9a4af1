#!/usr/bin/python3
"""make wheel: the Python wheel, as a pip user takes it. Its name, tag and
files; installed offline into a fresh venv, its `shmshim` command,
`python -m shmshim` and `shmshim.enable()` each run multiprocessing's
Pool, Queue, Lock and shared_memory in a namespace without /dev/shm, where
the same code fails without them; `shmclean` and the API answer; pip
uninstall leaves the venv as it was. The aarch64 wheel holds aarch64
programs."""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, VERSION, MP_CODE, ok, skip, done, lambda_like, can_unshare, mp_worked  # noqa: E402,E501

ENABLE = ("import os, shmshim\nshmshim.enable()\nprint('enabled', shmshim.enabled())\n"
          "print('preload', os.environ['LD_PRELOAD'])\n" + MP_CODE)


def elf_machine(data):
    return data[:4] == b"\x7fELF" and int.from_bytes(data[18:20], "little")


def files_of(venv):
    found = set()
    for d, dirs, files in os.walk(venv):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        found.update(os.path.relpath(os.path.join(d, x), venv) for x in files)
    return found


def test_contents(whl, plat, machine):
    with zipfile.ZipFile(whl) as z:
        names = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        wheel_meta = z.read("shmshim-%s.dist-info/WHEEL" % VERSION).decode()
        data = "shmshim-%s.data/purelib/shmshim/" % VERSION
        progs = [data + p for p in ("lib/libshmshim.so", "bin/shmshim", "bin/shmclean")]
        machines = [elf_machine(z.read(p)) if p in names else None for p in progs]
    want = {data + p for p in ("__init__.py", "__main__.py")} | set(progs) | {
        "shmshim-%s.dist-info/%s" % (VERSION, m)
        for m in ("METADATA", "WHEEL", "entry_points.txt", "top_level.txt", "RECORD")}
    ok(set(names) == want and all(names[p] == 0o755 for p in progs),
       "%s holds the package, the library, the launcher and shmclean (executable)"
       % os.path.basename(whl), sorted(set(names) ^ want))
    ok("Tag: py3-none-%s" % plat in wheel_meta and machines == [machine] * 3,
       "... tagged py3-none-%s, its programs built for that machine" % plat,
       "%s %s" % (wheel_meta, machines))


def main():
    work = tempfile.mkdtemp(prefix="shmshim-wheel.")
    os.chmod(work, 0o755)
    try:
        dist = os.path.join(work, "dist")
        r = subprocess.run(["make", "-s", "wheel", "DISTDIR=" + dist], cwd=TOP,
                           capture_output=True, text=True, timeout=600)
        x86 = os.path.join(dist, "shmshim-%s-py3-none-manylinux2014_x86_64.whl" % VERSION)
        arm = os.path.join(dist, "shmshim-%s-py3-none-manylinux2014_aarch64.whl" % VERSION)
        ok(r.returncode == 0 and os.path.exists(x86), "make wheel writes %s" % os.path.basename(x86),
           r.stdout + r.stderr)
        if not os.path.exists(x86):
            return done()
        test_contents(x86, "manylinux2014_x86_64", 62)
        if os.path.exists(arm):
            test_contents(arm, "manylinux2014_aarch64", 183)
        else:
            skip(2, "no aarch64 wheel: %s" % (r.stdout.strip() or "no aarch64 compiler"))

        venv = os.path.join(work, "venv")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300)
        before = files_of(venv)
        py, bin_ = os.path.join(venv, "bin", "python"), os.path.join(venv, "bin")
        r = subprocess.run([os.path.join(bin_, "pip"), "install", "--no-index", "-q", x86],
                           capture_output=True, text=True, timeout=300)
        ok(r.returncode == 0, "pip install --no-index of the wheel into a fresh venv",
           r.stdout + r.stderr)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "SHMSHIM_"))}
        r = subprocess.run([py, "-c", "import shmshim, os; print(shmshim.library_path()); "
                            "print(os.path.exists(shmshim.library_path()))"],
                           env=env, capture_output=True, text=True)
        lib = r.stdout.split("\n")[0]
        ok(r.returncode == 0 and lib.startswith(venv) and lib.endswith("/shmshim/lib/libshmshim.so")
           and "True" in r.stdout, "shmshim.library_path() is the installed library", r.stdout + r.stderr)
        r = subprocess.run([os.path.join(bin_, "shmshim"), "--print-lib"], env=env,
                           capture_output=True, text=True)
        ok(r.returncode == 0 and r.stdout.strip() == os.path.realpath(lib),
           "the shmshim command is the launcher, and finds that library", r.stdout + r.stderr)
        r = subprocess.run([os.path.join(bin_, "shmclean"), "--version"], env=env,
                           capture_output=True, text=True)
        ok(r.returncode == 0 and r.stdout.strip() == "shmclean (shmshim) " + VERSION,
           "the shmclean command says %s" % VERSION, r.stdout + r.stderr)
        r = subprocess.run([py, "-m", "shmshim", "--version"], env=env, capture_output=True,
                           text=True)
        ok(r.returncode == 0 and r.stdout.strip() == "shmshim " + VERSION,
           "python -m shmshim --version is the launcher's", r.stdout + r.stderr)
        r = subprocess.run([py, "-m", "shmshim"], env=env, capture_output=True, text=True)
        ok(r.returncode == 2 and "usage: python -m shmshim" in r.stderr,
           "python -m shmshim with nothing to run: usage, exit 2", r.stderr)

        if not can_unshare():
            skip(7, "a namespace without /dev/shm needs root and unshare -m")
        else:
            root = os.path.join(work, "root")
            os.mkdir(root)
            os.chmod(root, 0o1777)
            script = os.path.join(work, "app.py")
            with open(script, "w") as f:
                f.write(MP_CODE)
            enabling = os.path.join(work, "enabling.py")
            with open(enabling, "w") as f:
                f.write(ENABLE)
            r = lambda_like([py, script], env)
            ok(r.returncode != 0 and "Errno 2" in r.stderr,
               "without the shim the program fails where there is no /dev/shm", r.stderr[-300:])
            r = lambda_like([os.path.join(bin_, "shmshim"), "-d", root, py, script], env)
            ok(mp_worked(r), "under the shmshim command it works", r.stdout + r.stderr)
            r = lambda_like([py, "-m", "shmshim", "-d", root, script], env)
            ok(mp_worked(r), "under python -m shmshim SCRIPT it works", r.stdout + r.stderr)
            r = lambda_like([py, "-m", "shmshim", "--dir", root, "-c", MP_CODE], env)
            ok(mp_worked(r), "... and with -c CODE", r.stdout + r.stderr)
            libm = subprocess.run(["cc", "-print-file-name=libm.so.6"], capture_output=True,
                                  text=True).stdout.strip()
            r = lambda_like([py, enabling], dict(env, SHMSHIM_DIR=root, LD_PRELOAD=libm))
            ok(mp_worked(r) and "enabled True" in r.stdout,
               "a program that calls shmshim.enable() first works, started plainly",
               r.stdout + r.stderr)
            ok("preload %s %s" % (lib, libm) in r.stdout,
               "... with the library first in LD_PRELOAD, and what was there kept", r.stdout)
            ok(os.listdir(root) == [], "... and they all leave nothing in the directory",
               os.listdir(root))

        r = subprocess.run([os.path.join(bin_, "pip"), "uninstall", "-y", "-q", "shmshim"],
                           capture_output=True, text=True, timeout=300)
        after = files_of(venv)
        ok(r.returncode == 0 and after == before,
           "pip uninstall removes everything it installed", sorted(after ^ before))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return done()


sys.exit(main())

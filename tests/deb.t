#!/usr/bin/python3
"""make deb: the Debian package, as a Debian user would take it. Its name,
fields and exact file list (the library in the multiarch directory, the
programs, the man pages, copyright and changelog), lintian without errors,
and the package unpacked with dpkg-deb -x: its launcher finds the packaged
library and runs Python's multiprocessing where there is no /dev/shm (which
fails without it), and its shmclean says the version. The arm64 package is
built too when the aarch64 compiler is there."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import TOP, VERSION, MP_CODE, ok, skip, done, lambda_like, can_unshare, mp_worked  # noqa: E402,E501

def intended(triplet):
    dirs = ["./", "./usr/", "./usr/bin/", "./usr/lib/", "./usr/lib/%s/" % triplet,
            "./usr/lib/%s/shmshim/" % triplet, "./usr/share/", "./usr/share/doc/",
            "./usr/share/doc/shmshim/", "./usr/share/lintian/", "./usr/share/lintian/overrides/",
            "./usr/share/man/", "./usr/share/man/man1/", "./usr/share/man/man7/"]
    files = ["./usr/bin/shmclean", "./usr/bin/shmshim",
             "./usr/lib/%s/shmshim/libshmshim.so" % triplet,
             "./usr/share/doc/shmshim/changelog.Debian.gz", "./usr/share/doc/shmshim/copyright",
             "./usr/share/lintian/overrides/shmshim", "./usr/share/man/man1/shmclean.1.gz",
             "./usr/share/man/man1/shmshim.1.gz", "./usr/share/man/man7/shmshim.7.gz"]
    return sorted(dirs + files)


def contents(deb):
    out = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True).stdout
    return sorted(line.split()[-1] for line in out.splitlines())


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True,
                          text=True).stdout.strip()


def make_deb(dist, *args):
    r = subprocess.run(["make", "-s", "deb", "DISTDIR=" + dist] + list(args), cwd=TOP,
                       capture_output=True, text=True, timeout=600)
    return r, sorted(os.listdir(dist)) if os.path.isdir(dist) else []


def check_package(deb, arch, triplet):
    name = os.path.basename(deb)
    ok(contents(deb) == intended(triplet), "%s holds exactly the intended files" % name,
       "\n".join(sorted(set(contents(deb)) ^ set(intended(triplet)))))
    ok(field(deb, "Version") == VERSION + "-1" and field(deb, "Architecture") == arch and
       field(deb, "Depends") == "libc6 (>= 2.17)" and field(deb, "Package") == "shmshim",
       "... Package shmshim, Version %s-1, Architecture %s, Depends libc6 (>= 2.17)"
       % (VERSION, arch))
    if shutil.which("lintian"):
        # lintian leaves cache files (mldbm-elf-*) in its TMPDIR: a private one.
        with tempfile.TemporaryDirectory(prefix="shmshim-lintian.") as tmp:
            r = subprocess.run(["lintian", deb], capture_output=True, text=True, timeout=300,
                               env=dict(os.environ, TMPDIR=tmp))
        errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
        ok(errors == [], "... and lintian reports no errors", r.stdout)
    else:
        skip(1, "lintian is not installed (Debian: lintian)")


def test_native(dist, work):
    triplet = subprocess.run(["cc", "-dumpmachine"], capture_output=True, text=True).stdout.strip()
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                          text=True).stdout.strip()
    r, names = make_deb(dist)
    deb = os.path.join(dist, "shmshim_%s-1_%s.deb" % (VERSION, arch))
    ok(r.returncode == 0 and os.path.basename(deb) in names, "make deb writes %s"
       % os.path.basename(deb), r.stdout + r.stderr + str(names))
    if not os.path.exists(deb):
        skip(7, "no package")
        return
    check_package(deb, arch, triplet)
    tree = os.path.join(work, "tree")
    subprocess.run(["dpkg-deb", "-x", deb, tree], check=True)
    launcher = os.path.join(tree, "usr", "bin", "shmshim")
    r = subprocess.run([launcher, "--print-lib"], capture_output=True, text=True)
    ok(r.stdout.strip() == os.path.join(os.path.realpath(tree), "usr", "lib", triplet, "shmshim",
                                        "libshmshim.so"),
       "unpacked, its launcher finds the packaged library", r.stdout + r.stderr)
    r = subprocess.run([os.path.join(tree, "usr", "bin", "shmclean"), "--version"],
                       capture_output=True, text=True)
    ok(r.returncode == 0 and r.stdout.strip() == "shmclean (shmshim) " + VERSION,
       "... its shmclean says the version", r.stdout + r.stderr)
    if not can_unshare():
        skip(2, "a namespace without /dev/shm needs root and unshare -m")
        return
    root = tempfile.mkdtemp(prefix="shmshim-test.", dir=work)
    os.chmod(work, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "SHMSHIM_"))}
    r = lambda_like([launcher, "-d", root, "/usr/bin/python3", "-c", MP_CODE], env)
    ok(mp_worked(r) and os.listdir(root) == [],
       "... and runs Python's multiprocessing where there is no /dev/shm",
       r.stdout + r.stderr)
    r = lambda_like(["/usr/bin/python3", "-c", MP_CODE], env)
    ok(r.returncode != 0 and "Errno 2" in r.stderr, "... which fails there without it",
       r.stdout + r.stderr[-300:])


def test_arm64(dist):
    cc = os.environ.get("AARCH64_CC", "aarch64-linux-gnu-gcc")
    if not shutil.which(cc) or subprocess.run([cc, "-E", "-x", "c", "/dev/null"],
                                              capture_output=True).returncode != 0:
        skip(4, "no arm64 package: %s is missing (Debian: gcc-aarch64-linux-gnu "
                "libc6-dev-arm64-cross)" % cc)
        return
    build = os.path.join(os.environ.get("BUILDDIR") or "build", "aarch64")
    r, names = make_deb(dist, "BUILDDIR=" + build, "CC=" + cc)
    deb = os.path.join(dist, "shmshim_%s-1_arm64.deb" % VERSION)
    ok(r.returncode == 0 and os.path.basename(deb) in names,
       "make deb BUILDDIR=... CC=%s writes %s" % (cc, os.path.basename(deb)), r.stdout + r.stderr)
    if os.path.exists(deb):
        check_package(deb, "arm64", "aarch64-linux-gnu")
    else:
        skip(3, "no package")


def main():
    work = tempfile.mkdtemp(prefix="shmshim-deb.")
    try:
        dist = os.path.join(work, "dist")
        test_native(dist, work)
        test_arm64(dist)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return done()


sys.exit(main())
